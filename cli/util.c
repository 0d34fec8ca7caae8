/* util.c - placeholder */
