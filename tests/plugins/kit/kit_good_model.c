/* plugin-test fixture: good_model, the correct tanh layer the broken ones start
 * from (kit_model.h). */
#define KIT_NAME "kit_good_model"
#include "kit_model.h"
