/*
 * koigen.c -- the deterministic row generator behind data/load.
 *
 *   koigen FROM TO      rows FROM..TO-1 of table koi, in COPY text format
 *   koigen --key N      the kepid of row N
 *
 * Every value of row N comes from a generator seeded by N alone, so a row is
 * the same on every run, whatever --rows was and however rows are split
 * between parallel COPY streams: row N of a 10,000-row load is row N of a
 * 10,000,000-row one.
 *
 * kepid = 10000000 + 3N + (0, 1 or 2): unique, increasing with N, and with
 * gaps, so that a kepid between two rows' is a key that does not exist.
 *
 * Written in C rather than awk or Python because it must produce ten million
 * rows in seconds: values are rounded to fixed decimals and printed with
 * integer arithmetic (printf's %f would cost more than the COPY).
 */
#include <inttypes.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define KOIGEN_OUT_SIZE (1 << 20) /* bytes buffered before a write */
#define KOIGEN_ROW_MAX 512        /* longest row, with room */

struct out {
    char buf[KOIGEN_OUT_SIZE];
    size_t len;
};

static struct out out;

static void
out_flush(void)
{
    size_t off = 0;

    while (off < out.len) {
        ssize_t n = write(STDOUT_FILENO, out.buf + off, out.len - off);
        if (n <= 0) {
            perror("koigen: write");
            exit(1);
        }
        off += (size_t)n;
    }
    out.len = 0;
}

static void
put_str(const char *s)
{
    size_t n = strlen(s);
    memcpy(out.buf + out.len, s, n);
    out.len += n;
}

static void
put_char(char c)
{
    out.buf[out.len++] = c;
}

static void
put_u64(uint64_t v)
{
    char tmp[24];
    int n = 0;

    do {
        tmp[n++] = (char)('0' + v % 10);
        v /= 10;
    } while (v > 0);
    while (n > 0) {
        put_char(tmp[--n]);
    }
}

/* v >= 0 with `decimals` digits after the point, rounded half up. */
static void
put_fixed(double v, int decimals)
{
    uint64_t scale = 1;

    for (int i = 0; i < decimals; i++) {
        scale *= 10;
    }
    uint64_t n = (uint64_t)(v * (double)scale + 0.5);
    put_u64(n / scale);
    if (decimals == 0) {
        return;
    }
    put_char('.');
    uint64_t frac = n % scale;
    for (uint64_t d = scale / 10; d > 0; d /= 10) {
        put_char((char)('0' + frac / d % 10));
    }
}

/* Zero-padded to at least width digits: K00752. */
static void
put_padded(uint64_t v, int width)
{
    char tmp[24];
    int n = snprintf(tmp, sizeof(tmp), "%0*" PRIu64, width, v);
    out.len += (size_t)n;
    memcpy(out.buf + out.len - (size_t)n, tmp, (size_t)n);
}

/* splitmix64: one 64-bit state, good enough statistics for plausible data,
 * and seedable from a row number with no warm-up. */
static uint64_t
next_u64(uint64_t *s)
{
    uint64_t z = (*s += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

/* Uniform in [0, 1). */
static double
rnd(uint64_t *s)
{
    return (double)(next_u64(s) >> 11) * 0x1.0p-53;
}

/* Log-uniform between lo and hi: periods and radii spread over decades. */
static double
logu(uint64_t *s, double lo, double hi)
{
    return exp(log(lo) + rnd(s) * (log(hi) - log(lo)));
}

static uint64_t
row_seed(uint64_t row)
{
    return row * 0xd1b54a32d192ed03ULL ^ 0x6b6f692e6b6f6921ULL;
}

static uint64_t
kepid_of(uint64_t row, uint64_t *s)
{
    *s = row_seed(row);
    return 10000000 + 3 * row + next_u64(s) % 3;
}

static void
emit_row(uint64_t row)
{
    uint64_t s;
    uint64_t kepid = kepid_of(row, &s);
    double u = rnd(&s);
    /* Roughly the archive's mix: 28% confirmed, 20% candidates, 52% false positives. */
    const char *disp = u < 0.28 ? "CONFIRMED" : u < 0.48 ? "CANDIDATE" : "FALSE POSITIVE";
    int confirmed = disp[1] == 'O', fp = disp[0] == 'F';
    unsigned pl = 1 + (unsigned)(rnd(&s) * rnd(&s) * 4);
    double score = confirmed ? 0.85 + 0.15 * rnd(&s)
                   : !fp     ? 0.3 + 0.7 * rnd(&s)
                             : 0.3 * pow(rnd(&s), 2);
    int score_null = rnd(&s) < 0.04;
    double period = logu(&s, 0.3, 700);
    double prad = fp ? logu(&s, 0.5, 150) : logu(&s, 0.4, 22);
    double steff = 3800 + 1600 * (rnd(&s) + rnd(&s) + rnd(&s)) / 1.5;
    double srad = 0.4 + 1.6 * pow(rnd(&s), 1.5);
    /* Kepler's third law for a Sun-like star, then flux and temperature
     * (zero albedo, as the archive computes koi_teq). */
    double au = pow(period / 365.25, 2.0 / 3.0);
    double insol = srad * srad * pow(steff / 5772, 4) / (au * au);
    double teq = 278.3 * pow(insol, 0.25);
    double ra = 280.2 + 21.5 * rnd(&s);
    double dec = 36.6 + 15.6 * rnd(&s);
    double m = rnd(&s);
    double mag = 17.2 - 8.0 * m * m;

    put_u64(kepid);
    put_str("\tK");
    put_padded(row + 1, 5);
    put_str(pl < 10 ? ".0" : ".");
    put_u64(pl);
    put_char('\t');
    if (confirmed) {
        put_str("Kepler-");
        put_u64(1 + row / 2);
        put_char(' ');
        put_char((char)('a' + pl));
    } else {
        put_str("\\N");
    }
    put_char('\t');
    put_str(disp);
    put_str(fp ? "\tFALSE POSITIVE\t" : "\tCANDIDATE\t");
    if (score_null) {
        put_str("\\N");
    } else {
        put_fixed(score, 3);
    }
    put_char('\t');
    put_fixed(period, 8);
    put_char('\t');
    put_fixed(prad, 2);
    put_char('\t');
    put_fixed(teq, 0);
    put_char('\t');
    put_fixed(insol, 2);
    put_char('\t');
    put_fixed(steff, 0);
    put_char('\t');
    put_fixed(srad, 3);
    put_char('\t');
    put_fixed(ra, 6);
    put_char('\t');
    put_fixed(dec, 6);
    put_char('\t');
    put_fixed(mag, 3);
    put_char('\n');
}

static int
parse_u64(const char *arg, uint64_t *v)
{
    char *end;

    if (arg[0] < '0' || arg[0] > '9') {
        return -1;
    }
    *v = strtoull(arg, &end, 10);
    return *end == '\0' ? 0 : -1;
}

int
main(int argc, char **argv)
{
    uint64_t a, b, s;

    if (argc == 3 && strcmp(argv[1], "--key") == 0 && parse_u64(argv[2], &a) == 0) {
        printf("%" PRIu64 "\n", kepid_of(a, &s));
        return 0;
    }
    if (argc != 3 || parse_u64(argv[1], &a) != 0 || parse_u64(argv[2], &b) != 0) {
        fprintf(stderr, "usage: koigen FROM TO | koigen --key N\n");
        return 2;
    }
    for (uint64_t row = a; row < b; row++) {
        emit_row(row);
        if (out.len > KOIGEN_OUT_SIZE - KOIGEN_ROW_MAX) {
            out_flush();
        }
    }
    out_flush();
    return 0;
}
