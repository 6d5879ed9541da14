/* Floating-point environment and contraction checks (see fpcheck.h). */
#include "plugin/fpcheck.h"

#include <stddef.h>
#include <stdint.h>

#if defined(__x86_64__)
#define MXCSR_FTZ 0x8000u   /* flush-to-zero */
#define MXCSR_DAZ 0x0040u   /* denormals-are-zero */
#define MXCSR_FLAGS 0x003fu /* sticky exception flags: not a mode */
#elif defined(__aarch64__)
#define FPCR_FZ (1u << 24) /* flush-to-zero */
#endif

static unsigned control_bits(unsigned *x87_mode)
{
  *x87_mode = 0;
#if defined(__x86_64__)
  unsigned short cw;
  __asm__ volatile("fnstcw %0" : "=m"(cw));
  *x87_mode = cw;
  return __builtin_ia32_stmxcsr() & ~MXCSR_FLAGS;
#elif defined(__aarch64__)
  uint64_t fpcr;
  __asm__ volatile("mrs %0, fpcr" : "=r"(fpcr));
  return (unsigned)fpcr;
#else
  return 0;
#endif
}

void keel_fp_env_save(keel_fp_env *e)
{
  fegetenv(&e->env);
  e->round = fegetround();
  e->control = control_bits(&e->x87_mode);
}

const char *keel_fp_env_restore_if_changed(const keel_fp_env *e)
{
  unsigned x87 = 0, now = control_bits(&x87);
  int round = fegetround();
  if (now == e->control && x87 == e->x87_mode && round == e->round)
    return NULL;
  const char *what = "floating-point control bits";
#if defined(__x86_64__)
  unsigned diff = now ^ e->control;
  if (diff & MXCSR_FTZ)
    what = "flush-to-zero: linked with -ffast-math?";
  else if (diff & MXCSR_DAZ)
    what = "denormals-are-zero: linked with -ffast-math?";
  else if (round != e->round)
    what = "rounding mode";
  else if (x87 != e->x87_mode)
    what = "x87 precision or rounding";
#elif defined(__aarch64__)
  if ((now ^ e->control) & FPCR_FZ)
    what = "flush-to-zero: linked with -ffast-math?";
  else if (round != e->round)
    what = "rounding mode";
#else
  if (round != e->round)
    what = "rounding mode";
#endif
  fesetenv(&e->env);
  return what;
}

int keel_fp_probe_fuses(double (*probe)(double, double, double))
{
  /* a * b = 1 - 2^-54 exactly, which rounds to 1 (a tie, to even): the
   * unfused a * b + c is 0, the fused one -2^-54. volatile keeps this
   * file's own compile from fusing the expected value. */
  volatile double a = 1.0 + 0x1p-27, b = 1.0 - 0x1p-27, c = -1.0;
  volatile double product = a * b;
  volatile double unfused = product + c;
  double got = probe(a, b, c);
  return got != unfused;
}
