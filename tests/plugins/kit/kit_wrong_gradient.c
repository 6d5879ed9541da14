/* plugin-test fixture: wrong_gradient, the bias gradient with its sign flipped
 * (kit_model.h). */
#define KIT_WRONG_GRADIENT 1
#define KIT_NAME "kit_wrong_gradient"
#include "kit_model.h"
