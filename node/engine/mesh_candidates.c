/*
 * mesh_candidates.c - the candidate list's order (mesh.h): by key, and the
 * union of runs already in that order (each alliance's members), merged
 * rather than sorted.  Apart from mesh.c's state: the node builds the list,
 * the mesh borrows it.
 */
#include <stdlib.h>
#include <string.h>

#include "node/engine/mesh.h"

int mesh_candidate_cmp(const void *a, const void *b)
{
	return memcmp(((const struct mesh_candidate *)a)->key,
	              ((const struct mesh_candidate *)b)->key, MESH_KEY_BYTES);
}

size_t mesh_candidates_merge(struct mesh_candidate *c, const size_t *bound, size_t runs)
{
	size_t n = runs ? bound[runs] : 0, nb = runs, u = 0;
	struct mesh_candidate *src = c, *dst = n > 1 ? malloc(n * sizeof(*dst)) : NULL;
	size_t *b = runs > 1 ? malloc((runs + 1) * sizeof(*b)) : NULL;

	if (n <= 1) {
		nb = 1;
	} else if (runs > 1 && (!dst || !b)) {
		qsort(c, n, sizeof(*c), mesh_candidate_cmp);   /* no room to merge: sort */
		nb = 1;
	} else if (b) {
		memcpy(b, bound, (runs + 1) * sizeof(*b));
	}
	while (nb > 1) {   /* runs two by two, until one is left */
		size_t w = 0, k = 0;
		for (size_t r = 0; r < nb; r += 2) {
			size_t i = b[r], ie = b[r + 1], j = ie, je = r + 2 <= nb ? b[r + 2] : ie;
			b[k++] = w;
			while (i < ie || j < je)
				dst[w++] = j == je || (i < ie && mesh_candidate_cmp(&src[i], &src[j]) <= 0) ?
				           src[i++] : src[j++];
		}
		b[k] = w;
		nb = k;
		struct mesh_candidate *t = src;
		src = dst;
		dst = t;
	}
	if (src != c) {
		memcpy(c, src, n * sizeof(*c));
		dst = src;
	}
	free(dst);
	free(b);
	for (size_t i = 0; i < n; i++)
		if (u == 0 || memcmp(c[u - 1].key, c[i].key, MESH_KEY_BYTES))
			c[u++] = c[i];
	return u;
}
