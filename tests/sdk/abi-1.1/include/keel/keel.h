/* keel SDK: everything a plugin needs. Include this one header. */
#ifndef KEEL_KEEL_H
#define KEEL_KEEL_H

#include "keel/abi.h"
#include "keel/data.h"
#include "keel/error.h"
#include "keel/host.h"
#include "keel/loss.h"
#include "keel/model.h"
#include "keel/optimizer.h"
#include "keel/params.h"
#include "keel/plugin.h"
#include "keel/rng.h"
#include "keel/source.h"
#include "keel/transform.h"
#include "keel/utf8.h"

#endif /* KEEL_KEEL_H */
