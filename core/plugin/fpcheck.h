/* The floating-point facts the loader checks: that loading a shared
 * object left the floating-point environment as it was (a library linked
 * with -ffast-math sets flush-to-zero from an ELF constructor), and that
 * a plugin's contraction probe does not fuse a * b + c. */
#ifndef KEEL_PLUGIN_FPCHECK_H
#define KEEL_PLUGIN_FPCHECK_H

#include <fenv.h>

typedef struct keel_fp_env {
  fenv_t env;        /* restored as a whole */
  int round;         /* fegetround() */
  unsigned control;  /* x86-64: MXCSR control bits; aarch64: FPCR */
  unsigned x87_mode; /* x86-64: the x87 control word */
} keel_fp_env;

/* Records the calling thread's environment. */
void keel_fp_env_save(keel_fp_env *e);
/* When the environment differs from e in a way that changes results, puts
 * it back and returns what changed ("flush-to-zero: linked with
 * -ffast-math?", "rounding mode", ...; static text); else NULL. */
const char *keel_fp_env_restore_if_changed(const keel_fp_env *e);

/* Calls probe with operands whose fused multiply-add rounds differently
 * from a * b + c; 1 when the result is the fused one (contraction on). */
int keel_fp_probe_fuses(double (*probe)(double, double, double));

#endif
