#include <cblas.h>
/* OpenBLAS extensions: thread control, so BLAS and Dispatch do not oversubscribe the cores. */
void openblas_set_num_threads(int num_threads);
int openblas_get_num_threads(void);
