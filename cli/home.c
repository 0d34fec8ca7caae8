/* home.c - placeholder */
