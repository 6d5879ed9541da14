/* The SIGINT/SIGTERM handler of `keel run`: it stores the signal's number
 * and nothing else; no longjmp, no I/O, safe whichever thread (OpenMP's
 * or a plugin's) it lands on. The run reads the flag at batch and stage
 * boundaries. */
#include "cli/interrupt.h"

#include <string.h>

static volatile sig_atomic_t caught;

static void on_signal(int sig)
{
  if (!caught) /* the first signal is the one the run reports */
    caught = sig;
}

const volatile sig_atomic_t *keel_cli_interrupt_install(void)
{
  static const int sigs[] = {SIGINT, SIGTERM};
  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_handler = on_signal;
  /* SA_RESTART: reads and writes go on rather than fail with EINTR;
   * SA_RESETHAND: the second signal of a kind ends keel at once. */
  sa.sa_flags = SA_RESTART | SA_RESETHAND;
  sigemptyset(&sa.sa_mask);
  for (size_t i = 0; i < sizeof sigs / sizeof *sigs; i++) {
    struct sigaction old;
    if (sigaction(sigs[i], NULL, &old) == 0 && old.sa_handler == SIG_IGN)
      continue;
    sigaction(sigs[i], &sa, NULL);
  }
  return &caught;
}
