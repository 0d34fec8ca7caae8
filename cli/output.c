/* output.c - placeholder */
