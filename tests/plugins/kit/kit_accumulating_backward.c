/* plugin-test fixture: accumulating_backward, a backward that adds to grad
 * instead of overwriting it (kit_model.h). */
#define KIT_ACCUMULATE 1
#define KIT_NAME "kit_accumulating_backward"
#include "kit_model.h"
