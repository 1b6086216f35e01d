// The Linux side of tools/peers: a static program that is the initramfs's
// /init. It measures the primitives of biscotti's bench=sched with their
// Linux equivalents (sched_yield, futex, pthread_create+join, a pthread
// mutex), then runs /gobench (the Go side) twice, and powers the machine
// off. Each figure is printed as `peer linux.NAME cycles=MEDIAN` (per
// operation, one decimal), like biscotti's `bench NAME cycles=N`; a failure
// as `peer linux error: ...` or `peer go error: ...`.
//
// Under QEMU's -icount the TSC counts guest instructions, so a TSC delta is
// the instruction count of everything the guest ran meanwhile, the kernel's
// work included. Run as any process but PID 1 (e.g. on the host, to check
// it), it prints the same lines in host cycles and does not power off.
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <linux/futex.h>
#include <linux/reboot.h>
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/reboot.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>
#include <x86intrin.h>

// One warm-up run, then seven samples and their median: biscotti's bench
// runner (src/ktest/bench_runner.cc) does the same.
enum { kSamples = 7 };

static void die(const char* what) {
  printf("peer linux error: %s: %s\n", what, strerror(errno));
  fflush(stdout);
  exit(1);
}

static void pin_to(int cpu) {
  cpu_set_t set;
  CPU_ZERO(&set);
  CPU_SET(cpu, &set);
  if (sched_setaffinity(0, sizeof(set), &set) != 0) die("sched_setaffinity");
}

// Fails loudly unless the calling thread runs on `cpu`: the pinned
// benchmarks check their sides, so a 2-CPU figure is a cross-CPU one.
static void expect_cpu(int cpu, const char* who) {
  int got = sched_getcpu();
  if (got < 0) die("sched_getcpu");
  if (got != cpu) {
    printf("peer linux error: %s pinned to CPU %d runs on CPU %d\n", who, cpu, got);
    fflush(stdout);
    exit(1);
  }
}

static int cmp_double(const void* a, const void* b) {
  double x = *(const double*)a, y = *(const double*)b;
  return x < y ? -1 : x > y;
}

// A benchmark runs `iterations` operations and returns the TSC cycles they
// took.
typedef uint64_t (*BenchFn)(uint64_t iterations, int partner_cpu);

static void run_bench(const char* name, BenchFn fn, uint64_t iterations, int partner_cpu) {
  double per_op[kSamples];
  for (int s = -1; s < kSamples; ++s) {
    uint64_t cycles = fn(iterations, partner_cpu);
    if (s >= 0) per_op[s] = (double)cycles / (double)iterations;
  }
  qsort(per_op, kSamples, sizeof(per_op[0]), cmp_double);
  printf("peer linux.%s cycles=%.1f\n", name, per_op[kSamples / 2]);
  fflush(stdout);
}

static void start_thread(pthread_t* t, void* (*fn)(void*), void* arg) {
  int err = pthread_create(t, NULL, fn, arg);
  if (err != 0) {
    errno = err;
    die("pthread_create");
  }
}

// ---- yield: a round trip is our sched_yield and the partner's ----

static atomic_int yield_stop;

static void* yield_partner(void* arg) {
  pin_to(*(int*)arg);
  while (!atomic_load_explicit(&yield_stop, memory_order_relaxed)) sched_yield();
  return NULL;
}

static uint64_t yield_round_trip(uint64_t n, int cpu) {
  pthread_t t;
  atomic_store(&yield_stop, 0);
  start_thread(&t, yield_partner, &cpu);
  sched_yield();  // let it start
  uint64_t t0 = __rdtsc();
  for (uint64_t i = 0; i < n; ++i) sched_yield();
  uint64_t cycles = __rdtsc() - t0;
  atomic_store(&yield_stop, 1);
  pthread_join(t, NULL);
  return cycles;
}

// ---- futex ping-pong: biscotti's protocol (src/sched/sched_bench.cc) ----

// 1: the partner's turn; 0: ours; 2: stop.
static _Atomic uint32_t futex_word;
static int futex_partner_cpu;

static void futex_wait(uint32_t expected) {
  syscall(SYS_futex, &futex_word, FUTEX_WAIT_PRIVATE, expected, NULL, NULL, 0);
}
static void futex_wake(void) { syscall(SYS_futex, &futex_word, FUTEX_WAKE_PRIVATE, 1, NULL, NULL, 0); }

static void* futex_partner(void* arg) {
  (void)arg;
  pin_to(futex_partner_cpu);
  expect_cpu(futex_partner_cpu, "the futex partner");
  for (;;) {
    uint32_t v = atomic_load_explicit(&futex_word, memory_order_acquire);
    if (v == 2) {
      expect_cpu(futex_partner_cpu, "the futex partner");
      return NULL;
    }
    if (v == 0) {
      futex_wait(0);
      continue;
    }
    atomic_store_explicit(&futex_word, 0, memory_order_release);
    futex_wake();
  }
}

static uint64_t futex_ping_pong(uint64_t n, int cpu) {
  pthread_t t;
  atomic_store(&futex_word, 0);
  futex_partner_cpu = cpu;
  start_thread(&t, futex_partner, NULL);
  expect_cpu(0, "the futex pinger");
  uint64_t t0 = __rdtsc();
  for (uint64_t i = 0; i < n; ++i) {
    atomic_store_explicit(&futex_word, 1, memory_order_release);
    futex_wake();
    while (atomic_load_explicit(&futex_word, memory_order_acquire) == 1) futex_wait(1);
  }
  uint64_t cycles = __rdtsc() - t0;
  expect_cpu(0, "the futex pinger");
  atomic_store_explicit(&futex_word, 2, memory_order_release);
  futex_wake();
  pthread_join(t, NULL);
  return cycles;
}

// ---- spawn + join of an empty thread (it inherits our CPU 0 pin) ----

static void* empty_thread(void* arg) { return arg; }

static uint64_t spawn_join(uint64_t n, int cpu) {
  (void)cpu;
  uint64_t t0 = __rdtsc();
  for (uint64_t i = 0; i < n; ++i) {
    pthread_t t;
    start_thread(&t, empty_thread, NULL);
    pthread_join(t, NULL);
  }
  return __rdtsc() - t0;
}

// ---- an uncontended lock+unlock pair ----

static pthread_mutex_t mutex = PTHREAD_MUTEX_INITIALIZER;

static uint64_t mutex_pair(uint64_t n, int cpu) {
  (void)cpu;
  uint64_t t0 = __rdtsc();
  for (uint64_t i = 0; i < n; ++i) {
    pthread_mutex_lock(&mutex);
    pthread_mutex_unlock(&mutex);
  }
  return __rdtsc() - t0;
}

// Runs /gobench MODE, pinned to CPU 0 when `pin` (its threads inherit the
// mask), else free on every CPU, and reports how it ended.
static void run_go(const char* mode, int pin, long cpus) {
  pid_t pid = fork();
  if (pid < 0) die("fork");
  if (pid == 0) {
    if (pin) {
      pin_to(0);
    } else {
      // We are pinned to CPU 0, and Go sizes itself by the mask it starts
      // with (runtime.NumCPU).
      cpu_set_t set;
      CPU_ZERO(&set);
      for (long c = 0; c < cpus && c < CPU_SETSIZE; ++c) CPU_SET(c, &set);
      if (sched_setaffinity(0, sizeof(set), &set) != 0) die("sched_setaffinity");
    }
    char* argv[] = {"/gobench", (char*)mode, NULL};
    char* envp[] = {NULL};
    execve(argv[0], argv, envp);
    printf("peer go error: cannot run %s: %s\n", argv[0], strerror(errno));
    fflush(stdout);
    _exit(127);
  }
  int status;
  while (waitpid(pid, &status, 0) < 0)
    if (errno != EINTR) die("waitpid");
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
    printf("peer go error: /gobench %s failed (wait status 0x%x)\n", mode, (unsigned)status);
}

// Brings every present CPU online through sysfs. tools/peers boots Linux
// with maxcpus=1: under QEMU 7.2's -icount the boot-time bring-up of the
// second CPU never completes (the AP spins in wait_for_master_cpu for the
// boot CPU's go-ahead, which does not come), while a hot-plug from here
// does.
static void bring_cpus_online(void) {
  if (mkdir("/sys", 0755) != 0 && errno != EEXIST) die("mkdir /sys");
  if (mount("sysfs", "/sys", "sysfs", 0, NULL) != 0) die("mount sysfs");
  for (int cpu = 1;; ++cpu) {
    char path[64];
    snprintf(path, sizeof(path), "/sys/devices/system/cpu/cpu%d/online", cpu);
    int fd = open(path, O_WRONLY);
    if (fd < 0) {
      if (errno == ENOENT) return;  // no such CPU: all are up
      die(path);
    }
    if (write(fd, "1", 1) != 1) die(path);
    close(fd);
  }
}

int main(void) {
  int as_init = getpid() == 1;
  setvbuf(stdout, NULL, _IOLBF, 0);
  if (as_init) bring_cpus_online();
  long cpus = sysconf(_SC_NPROCESSORS_ONLN);
  printf("peer linux: %ld CPUs online\n", cpus);

  pin_to(0);
  run_bench("yield_round_trip", yield_round_trip, 2000, 0);
  run_bench("futex_ping_pong_1_cpu", futex_ping_pong, 1000, 0);
  if (cpus >= 2)
    run_bench("futex_ping_pong_2_cpus", futex_ping_pong, 1000, 1);
  else
    printf("peer linux.futex_ping_pong_2_cpus skipped: needs two CPUs\n");
  // About 75,000 instructions each: fewer iterations keep the boot short.
  run_bench("spawn_join", spawn_join, 200, 0);
  run_bench("mutex_pair", mutex_pair, 100000, 0);

  if (access("/gobench", X_OK) == 0) {
    run_go("1cpu", 1, cpus);
    run_go("2cpus", 0, cpus);
  } else {
    printf("peer go error: /gobench not found\n");
  }
  printf("peer: done\n");
  fflush(stdout);
  if (as_init) {
    sync();
    reboot(LINUX_REBOOT_CMD_POWER_OFF);
    die("reboot");  // PID 1 must not exit: the kernel would panic
  }
  return 0;
}
