/* plugin-test fixture: thread_unsafe_model, activations kept in a static buffer
 * shared by instances and threads (kit_model.h). */
#define KIT_STATIC_SCRATCH 1
#define KIT_NAME "kit_thread_unsafe_model"
#include "kit_model.h"
