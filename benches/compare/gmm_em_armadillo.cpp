// Armadillo gmm_full / gmm_diag: ms per EM iteration from the shared start (peer benchmark).
//
//   python3 benches/compare/gmm_data.py       # writes target/compare/
//   g++ -O3 -fopenmp -o target/compare/gmm_em_armadillo benches/compare/gmm_em_armadillo.cpp \
//       -larmadillo
//   OMP_NUM_THREADS=1 target/compare/gmm_em_armadillo [dir] [iters=10] [repeats=5] \
//       [big_repeats=3] [kinds=full,diag] [only=name,...] [verbose=1]
//
// (benches/compare/run_peers.sh installs libarmadillo-dev and g++ from Debian, builds and
// runs it; plain -O3 for the x86-64 baseline, as mixkern's release build has no special
// RUSTFLAGS: -march=native was no faster here.) Built with -fopenmp, Armadillo's EM splits
// the samples over omp_get_max_threads() blocks, so OMP_NUM_THREADS=1 makes it
// single-threaded (the program prints the thread count it sees on stderr).
//
// Per (size, kind): set_params(start means, covs, weights) outside the timing, then
//   model.learn(X, K, eucl_dist, keep_existing, 0 /*km_iter*/, T /*em_iter*/, 1e-10, false)
// is timed (wall clock, and process CPU time); the time per iteration reported is its
// time / T, nothing subtracted.
// With keep_existing and km_iter = 0 neither the seeding nor k-means runs and dist_mode is
// irrelevant to EM (eucl_dist avoids the extra variance pass maha_dist makes over X).
// learn() = an is_finite pass over X, a copy of the model, T x em iteration, and a final
// init_constants(). One Armadillo EM iteration (gmm_full_meat.hpp em_iterate) is
// init_constants() (inverse and log-det of every covariance), then ONE pass over the data
// that computes the log-densities (x - mu)' inv(S) (x - mu) per sample and component,
// normalizes with log_add_exp, and accumulates sum r, sum r x, sum r x x' (raw second
// moments; the M-step then forms S = E[x x'] - mu mu', a one-pass formula), then the
// M-step; so one E-step + one M-step per iteration, like sklearn. var_floor is not
// added: variances below it are clamped to it (1e-10 here: no effect on this data).
// Armadillo stops early if |avg_log_p change| <= DBL_EPSILON; verbose=1 prints its
// per-iteration log, which shows T iterations ran.
//
// Output: one line per (size, kind):
//   RESULT armadillo <N> <d> <K> <kind> <T> <median wall ms/iter> <min wall ms/iter>
//          <median cpu ms/iter> <ll_final>
// ll_final = model.avg_log_p(X) after learn(), outside the timing.
#include <armadillo>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <sstream>
#include <string>
#include <ctime>
#include <vector>

#ifdef _OPENMP
#include <omp.h>
#endif

using namespace arma;

static std::string g_dir;

static void read_f64(const std::string& name, const char* part, double* out, size_t len) {
  const std::string path = g_dir + "/" + name + "." + part + ".f64";
  std::ifstream f(path, std::ios::binary | std::ios::ate);
  if (!f) throw std::runtime_error("cannot open " + path);
  const std::streamsize bytes = f.tellg();
  if (bytes != std::streamsize(len * sizeof(double))) throw std::runtime_error("wrong size: " + path);
  f.seekg(0);
  f.read(reinterpret_cast<char*>(out), bytes);  // little-endian host assumed (x86-64)
}

static std::vector<std::string> split(const std::string& s, char sep) {
  std::vector<std::string> out;
  std::stringstream ss(s);
  std::string item;
  while (std::getline(ss, item, sep))
    if (!item.empty()) out.push_back(item);
  return out;
}

static double cpu_ms() {
  timespec ts;
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
  return 1e3 * double(ts.tv_sec) + 1e-6 * double(ts.tv_nsec);
}

static double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  const size_t n = v.size();
  return (n % 2) ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}

template <typename Model, typename Covs>
static void bench(const char* kind, const std::string& name, const mat& X, uword k, const mat& m0,
                  const Covs& s0, const rowvec& w0, uword iters, int repeats, bool verbose) {
  Model model;
  std::vector<double> per, per_cpu;
  for (int r = 0; r <= repeats; ++r) {
    model.set_params(m0, s0, w0);
    const double c0 = cpu_ms();
    const auto t0 = std::chrono::steady_clock::now();
    const bool ok = model.learn(X, k, eucl_dist, keep_existing, 0, iters, 1e-10, verbose && r == 0);
    const auto t1 = std::chrono::steady_clock::now();
    const double c1 = cpu_ms();
    if (!ok) throw std::runtime_error(name + " " + kind + ": learn() failed");
    if (r > 0) {  // r = 0 is the warm-up
      per.push_back(std::chrono::duration<double, std::milli>(t1 - t0).count() / double(iters));
      per_cpu.push_back((c1 - c0) / double(iters));
    }
  }
  const double ll = model.avg_log_p(X);
  std::sort(per.begin(), per.end());
  std::printf("RESULT armadillo %llu %llu %llu %s %llu %.2f %.2f %.2f %.10f\n", (unsigned long long)X.n_cols,
              (unsigned long long)X.n_rows, (unsigned long long)k, kind, (unsigned long long)iters, median(per),
              per[0], median(per_cpu), ll);
  std::fflush(stdout);
}

int main(int argc, char** argv) {
  g_dir = "target/compare";
  uword iters = 10;
  int repeats = 5, big_repeats = 3;
  bool verbose = false;
  std::vector<std::string> kinds = {"full", "diag"}, only;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    const size_t eq = a.find('=');
    if (eq == std::string::npos) { g_dir = a; continue; }
    const std::string key = a.substr(0, eq), val = a.substr(eq + 1);
    if (key == "iters") iters = std::stoul(val);
    else if (key == "repeats") repeats = std::stoi(val);
    else if (key == "big_repeats") big_repeats = std::stoi(val);
    else if (key == "kinds") kinds = split(val, ',');
    else if (key == "only") only = split(val, ',');
    else if (key == "verbose") verbose = (val == "1");
    else if (key == "dir") g_dir = val;
  }
#ifdef _OPENMP
  const int threads = omp_get_max_threads();
#else
  const int threads = 1;
#endif
  std::fprintf(stderr, "# Armadillo %s, OpenMP threads %d\n", arma_version::as_string().c_str(), threads);

  std::ifstream header(g_dir + "/gmm_sizes.txt");
  if (!header) { std::fprintf(stderr, "no %s/gmm_sizes.txt: run gmm_data.py\n", g_dir.c_str()); return 1; }
  std::string line;
  while (std::getline(header, line)) {
    if (line.empty() || line[0] == '#') continue;
    std::istringstream ls(line);
    std::string name;
    unsigned long long n, d, k;
    ls >> name >> n >> d >> k;
    if (!only.empty() && std::find(only.begin(), only.end(), name) == only.end()) continue;
    // Row-major N x d on disk is column-major d x N: Armadillo's layout (one sample per column).
    mat X(d, n);
    read_f64(name, "x", X.memptr(), n * d);
    rowvec w0(k);
    read_f64(name, "weights", w0.memptr(), k);
    mat m0(d, k);
    read_f64(name, "means", m0.memptr(), k * d);
    const int reps = (double(n) * d * k > 1e7) ? big_repeats : repeats;
    for (const std::string& kind : kinds) {
      if (kind == "full") {
        cube s0(d, d, k);
        read_f64(name, "covs_full", s0.memptr(), k * d * d);
        bench<gmm_full>("full", name, X, k, m0, s0, w0, iters, reps, verbose);
      } else {
        mat s0(d, k);
        read_f64(name, "covs_diag", s0.memptr(), k * d);
        bench<gmm_diag>("diag", name, X, k, m0, s0, w0, iters, reps, verbose);
      }
    }
  }
  return 0;
}
