/*
 * An edge node of the distributed round on a Cortex-M4F, in C against the bare-metal
 * libmixkern.a (`make bare-metal`) and mixkern.h: the same node as firmware/node (Rust), with the
 * same output (see its src/main.rs): it simulates n = 1000 samples of a K = 3 mixture in d = 4
 * dimensions, fits with the round's preset, encodes the estimate and prints the message, the
 * fit's SysTick ticks (instructions under QEMU -icount) and its painted stack high-water mark.
 * Then, as a node that cannot hold its samples, it fits n = 10,000 samples its sensor replays in
 * blocks of 50 with mk_gmm_fit_chunked, in buffers that do not depend on n.
 */
#include <stddef.h>
#include <stdint.h>

#include "mixkern.h"
#include "startup.h"

#define K 3
#define D 4
#define N 1000
#define WORK 8813 /* mk_gmm_fit_work_len(N, D, fit), checked below */
#define MESSAGE (24 + 8 * K * (1 + D + D * (D + 1) / 2) + 4)
#define PAINT 0x5AA5C33Cu
#define N_CHUNKED 10000
#define BLOCK 50
#define CHUNKED_WORK 1299  /* mk_gmm_fit_chunked_work_len(D, BLOCK, ...), checked below */
#define BLOCK_FIT_WORK 1213 /* mk_gmm_fit_work_len(BLOCK, D, ...), checked below */

static double x[N * D];
static double work[WORK];
static uint8_t message[MESSAGE];
static double chunked_work[CHUNKED_WORK];
static double block[BLOCK * D];
static double block_work[BLOCK_FIT_WORK];

static void put_u64(uint64_t v)
{
    char buf[21];
    int i = 20;
    buf[i] = 0;
    do {
        buf[--i] = (char)('0' + v % 10);
        v /= 10;
    } while (v);
    semihost_write(buf + i);
}

static void put_hex(uint64_t v, int digits)
{
    char buf[17];
    buf[digits] = 0;
    for (int i = digits - 1; i >= 0; i--, v >>= 4)
        buf[i] = "0123456789abcdef"[v & 15];
    semihost_write(buf);
}

static void panic_hook(uint32_t line)
{
    semihost_write("panic in mixkern at line ");
    put_u64(line);
    semihost_write("\n");
    semihost_exit(1);
}

static int fail(const char *what, int32_t status)
{
    semihost_write(what);
    semihost_write(": ");
    semihost_write(mk_status_str(status));
    semihost_write("\n");
    return 1;
}

/* Prints "<label>fit status 0 iterations .. converged .. loglik_bits .." and
   "<label>message <hex>" for the fit of n samples. */
static int print_fit(const char *label, const mk_gmm_fit_report *report, const double *fw,
                     const double *fmu, const double *fs, size_t n)
{
    union {
        double d;
        uint64_t u;
    } ll = {.d = report->mean_log_likelihood};
    semihost_write(label);
    semihost_write("fit status 0 iterations ");
    put_u64(report->iterations);
    semihost_write(report->converged ? " converged 1 loglik_bits " : " converged 0 loglik_bits ");
    put_hex(ll.u, 16);
    semihost_write("\n");
    const mk_mixture estimate = {.k = K, .d = D, .cov_kind = MK_COV_FULL, .weights = fw,
                                 .means = fmu, .covs = fs};
    size_t len;
    int32_t status = mk_wire_encode(&estimate, n, message, sizeof message, &len);
    if (status != MK_STATUS_OK)
        return fail("encode", status);
    semihost_write(label);
    semihost_write("message ");
    for (size_t i = 0; i < len; i++)
        put_hex(message[i], 2);
    semihost_write("\n");
    return 0;
}

/* The sensor's replay: block j of the samples (seed 2027 + j), drawn again on demand. */
static int32_t replay(void *context, size_t first, size_t max_rows, double *out,
                      size_t *rows_out)
{
    const mk_mixture *truth = context;
    if (first >= N_CHUNKED) {
        *rows_out = 0;
        return 0;
    }
    if (max_rows < BLOCK)
        return 1;
    *rows_out = BLOCK;
    return mk_gmm_simulate(truth, BLOCK, 2027 + first / BLOCK, out, NULL, block_work,
                           BLOCK_FIT_WORK);
}

/* The node that cannot hold its samples: the start is the batch fit of the first block. */
static int chunked_node(const mk_mixture *truth)
{
    /* Static, like every buffer here: the stack holds only the call frames. */
    static double sw[K], smu[K * D], ss[K * D * D], fw[K], fmu[K * D], fs[K * D * D];
    const mk_mixture_out start_out = {.k = K, .d = D, .cov_kind = MK_COV_FULL, .weights = sw,
                                      .means = smu, .covs = ss};
    const mk_mixture start = {.k = K, .d = D, .cov_kind = MK_COV_FULL, .weights = sw,
                              .means = smu, .covs = ss};
    const mk_mixture_out fit = {.k = K, .d = D, .cov_kind = MK_COV_FULL, .weights = fw,
                                .means = fmu, .covs = fs};
    if (mk_gmm_fit_chunked_work_len(D, BLOCK, &start, &fit) != CHUNKED_WORK ||
        mk_gmm_fit_work_len(BLOCK, D, &start_out) != BLOCK_FIT_WORK)
        return fail("CHUNKED_WORK or BLOCK_FIT_WORK is not the work length",
                    MK_STATUS_BUFFER_TOO_SHORT);
    mk_gmm_fit_options options = mk_gmm_fit_options_round();
    options.seed = 1;
    mk_gmm_fit_report report;
    uint64_t start_ticks = ticks();
    int32_t status = mk_gmm_simulate(truth, BLOCK, 2027, block, NULL, block_work, BLOCK_FIT_WORK);
    if (status == MK_STATUS_OK)
        status = mk_gmm_fit(block, BLOCK, D, NULL, &options, &start_out, NULL, NULL, NULL,
                            block_work, BLOCK_FIT_WORK, &report);
    if (status != MK_STATUS_OK)
        return fail("chunked start", status);
    status = mk_gmm_fit_chunked(replay, (void *)truth, D, BLOCK, &options, &start, &fit, NULL,
                                chunked_work, CHUNKED_WORK, &report);
    uint64_t fit_ticks = ticks() - start_ticks;
    if (status != MK_STATUS_OK)
        return fail("chunked fit", status);
    if (print_fit("chunked ", &report, fw, fmu, fs, N_CHUNKED))
        return 1;
    semihost_write("chunked ram ");
    /* Its buffers: the workspace, a block, the start's fit workspace, the start and the fit. */
    put_u64(8 * (CHUNKED_WORK + BLOCK * D + BLOCK_FIT_WORK + 2 * (K + K * D + K * D * D)));
    semihost_write(" ticks ");
    put_u64(fit_ticks);
    semihost_write("\n");
    return 0;
}

extern uint32_t _bss_end, _stack_top;

int main(void)
{
    /* Paint the free stack: from the end of the static data to 256 bytes below here. */
    uint32_t *bottom = &_bss_end, *p;
    uint32_t *sp;
    __asm volatile("mov %0, sp" : "=r"(sp));
    for (p = bottom; p < sp - 64; p++)
        *(volatile uint32_t *)p = PAINT;
    mk_set_panic_hook(panic_hook);
    ticks_start();

    static const double w[K] = {0.5, 0.3, 0.2};
    static const double mu[K * D] = {0, 0, 0, 0, 4, 4, 0, 0, -4, 3, 2, 1};
    static const double s[K * D * D] = {
        1.0, 0.3, 0.0, 0.1, 0.3, 1.5, 0.2, 0.0, 0.0, 0.2, 0.8, 0.0, 0.1, 0.0, 0.0, 1.2,
        0.5, 0.0, 0.0, 0.0, 0.0, 0.5, 0.1, 0.0, 0.0, 0.1, 0.5, 0.0, 0.0, 0.0, 0.0, 0.5,
        2.0, -0.5, 0.0, 0.0, -0.5, 1.0, 0.0, 0.0, 0.0, 0.0, 1.0, 0.3, 0.0, 0.0, 0.3, 1.0,
    };
    const mk_mixture truth = {.k = K, .d = D, .cov_kind = MK_COV_FULL, .weights = w, .means = mu,
                              .covs = s};
    semihost_write("node c k 3 d 4 n 1000\n");
    int32_t status = mk_gmm_simulate(&truth, N, 2026, x, NULL, work, WORK);
    if (status != MK_STATUS_OK)
        return fail("simulate", status);

    uint64_t start = ticks();
    calibration_loop();
    uint64_t calibration = ticks() - start;

    static double fw[K], fmu[K * D], fs[K * D * D];
    const mk_mixture_out fit = {.k = K, .d = D, .cov_kind = MK_COV_FULL, .weights = fw,
                                .means = fmu, .covs = fs};
    if (mk_gmm_fit_work_len(N, D, &fit) != WORK)
        return fail("WORK is not mk_gmm_fit_work_len", MK_STATUS_BUFFER_TOO_SHORT);
    mk_gmm_fit_options options = mk_gmm_fit_options_round();
    options.seed = 1;
    mk_gmm_fit_report report;
    start = ticks();
    status = mk_gmm_fit(x, N, D, NULL, &options, &fit, NULL, NULL, NULL, work, WORK, &report);
    uint64_t fit_ticks = ticks() - start;
    if (status != MK_STATUS_OK)
        return fail("fit", status);
    if (print_fit("", &report, fw, fmu, fs, N))
        return 1;
    semihost_write("ticks calibration ");
    put_u64(calibration);
    semihost_write(" fit ");
    put_u64(fit_ticks);
    semihost_write("\n");
    if (chunked_node(&truth))
        return 1;
    semihost_write("stack ");
    for (p = bottom; p < &_stack_top && *(volatile uint32_t *)p == PAINT; p++) {
    }
    put_u64((uint64_t)((uintptr_t)&_stack_top - (uintptr_t)p));
    semihost_write("\n");
    return 0;
}
