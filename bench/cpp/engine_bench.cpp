// engine_bench: single-thread throughput of a full profile on in-memory Arrow data, plus the
// cost of each component alone. Build with -DTRUTHOUND_BUILD_BENCH=ON.
//
//   engine_bench [rows=10000000] [reps=3] [which=all|int|float|str] [components=1]
//
// Prints M values/s (best of `reps`) for PartialProfile::consume_batch over `rows` rows in
// batches of 64K rows of one column (int64 uniform random, float64 normal, utf8 short mixed
// strings, or ENGINE_BENCH_STRINGS=file), then ns/value of each component run alone over the
// same values.
#include <time.h>
#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <random>
#include <string>
#include <vector>

#include "truthound/arrow/c_abi.hpp"
#include "truthound/patterns/patterns.hpp"
#include "truthound/profile/duplicates.hpp"
#include "truthound/profile/partial.hpp"
#include "truthound/sketch/frequent_items.hpp"
#include "truthound/sketch/hll.hpp"
#include "truthound/sketch/kll.hpp"
#include "truthound/stats/moments.hpp"
#include "truthound/util/hash.hpp"
#include "truthound/util/utf8.hpp"

using namespace truthound;

namespace {

constexpr int64_t kBatch = 65536;

void release_schema(ArrowSchema* s) {
  s->release = nullptr;
}
void release_array(ArrowArray* a) {
  a->release = nullptr;
}

// Thread CPU time: on a shared, loaded machine it leaves out the time this thread waited for a
// core (wall time would charge it). Set ENGINE_BENCH_WALL=1 for wall time.
double now() {
  static const bool wall = std::getenv("ENGINE_BENCH_WALL") != nullptr;
  if (wall)
    return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch())
        .count();
  timespec ts;
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) + 1e-9 * static_cast<double>(ts.tv_nsec);
}

// One column of `rows` values; batches are views into it (offset per batch).
struct Column {
  const char* format = "l";  // "l", "g", "u"
  std::vector<int64_t> ints;
  std::vector<double> doubles;
  std::vector<int32_t> offsets;
  std::string data;
  size_t rows = 0;
};

Column make_ints(size_t rows) {
  Column c;
  c.format = "l";
  std::mt19937_64 rng(42);
  c.ints.resize(rows);
  for (auto& v : c.ints) v = static_cast<int64_t>(rng());
  c.rows = rows;
  return c;
}

Column make_floats(size_t rows) {
  Column c;
  c.format = "g";
  std::mt19937_64 rng(43);
  std::normal_distribution<double> nd(100.0, 15.0);
  c.doubles.resize(rows);
  for (auto& v : c.doubles) v = nd(rng);
  c.rows = rows;
  return c;
}

// ENGINE_BENCH_STRINGS=file: the strings instead come from a file of (uint32 little-endian
// length, bytes) records, repeated until `rows` values.
Column load_strings(const char* path, size_t rows) {
  Column c;
  c.format = "u";
  std::FILE* f = std::fopen(path, "rb");
  if (f == nullptr) {
    std::fprintf(stderr, "cannot open %s\n", path);
    std::exit(2);
  }
  std::string file;
  char buf[1 << 16];
  for (size_t got; (got = std::fread(buf, 1, sizeof buf, f)) > 0;) file.append(buf, got);
  std::fclose(f);
  std::vector<std::string_view> values;
  for (size_t i = 0; i + 4 <= file.size();) {
    uint32_t n;
    std::memcpy(&n, file.data() + i, 4);
    i += 4;
    if (i + n > file.size()) break;
    values.emplace_back(file.data() + i, n);
    i += n;
  }
  if (values.empty()) {
    std::fprintf(stderr, "no strings in %s\n", path);
    std::exit(2);
  }
  c.offsets.reserve(rows + 1);
  c.offsets.push_back(0);
  for (size_t i = 0; i < rows; ++i) {
    c.data += values[i % values.size()];
    c.offsets.push_back(static_cast<int32_t>(c.data.size()));
  }
  c.rows = rows;
  return c;
}

Column make_strings(size_t rows) {
  if (const char* path = std::getenv("ENGINE_BENCH_STRINGS")) return load_strings(path, rows);
  Column c;
  c.format = "u";
  std::mt19937_64 rng(44);
  static const char* words[] = {"alpha",   "bravo",  "charlie", "delta",    "echo",
                                "foxtrot", "golf",   "hotel",   "india",    "juliet",
                                "kilo",    "lima",   "mike",    "november", "oscar",
                                "papa",    "quebec", "romeo",   "sierra",   "tango"};
  static const char* domains[] = {"example.com", "mail.org", "corp.net", "test.io"};
  const char* hex = "0123456789abcdef";
  c.offsets.reserve(rows + 1);
  c.offsets.push_back(0);
  c.data.reserve(rows * 24);
  std::string s;
  for (size_t i = 0; i < rows; ++i) {
    s.clear();
    switch (rng() % 4) {
      case 0: {  // email, ~18-28 bytes
        s += words[rng() % 20];
        s += '.';
        s += std::to_string(rng() % 100000);
        s += '@';
        s += domains[rng() % 4];
        break;
      }
      case 1: {  // uuid (36 bytes)
        for (int k = 0; k < 36; ++k)
          s += (k == 8 || k == 13 || k == 18 || k == 23) ? '-' : hex[rng() % 16];
        break;
      }
      case 2: {  // number 10-19 digits
        s = std::to_string(rng() % 10000000000000000000ULL);
        if (s.size() < 10) s.insert(0, 10 - s.size(), '1');
        break;
      }
      default: {  // two or three words, 10-30 bytes
        s += words[rng() % 20];
        s += ' ';
        s += words[rng() % 20];
        if (rng() % 2) {
          s += ' ';
          s += words[rng() % 20];
        }
        break;
      }
    }
    c.data += s;
    c.offsets.push_back(static_cast<int32_t>(c.data.size()));
  }
  c.rows = rows;
  return c;
}

double profile_once(const Column& c, std::string* json) {
  ArrowSchema child{c.format,       "x",    nullptr, ARROW_FLAG_NULLABLE, 0, nullptr, nullptr,
                    release_schema, nullptr};
  ArrowSchema* children[] = {&child};
  ArrowSchema root{"+s", "", nullptr, 0, 1, children, nullptr, release_schema, nullptr};
  PartialProfile p;
  const double t0 = now();
  for (size_t b = 0; b < c.rows; b += kBatch) {
    const int64_t len = static_cast<int64_t>(std::min<size_t>(kBatch, c.rows - b));
    const void* bufs[3] = {nullptr, nullptr, nullptr};
    int64_t nb = 2;
    if (c.format[0] == 'l') {
      bufs[1] = c.ints.data() + b;
    } else if (c.format[0] == 'g') {
      bufs[1] = c.doubles.data() + b;
    } else {
      bufs[1] = c.offsets.data() + b;  // offsets are absolute into data: fine for Arrow
      bufs[2] = c.data.data();
      nb = 3;
    }
    ArrowArray col{len, 0, 0, nb, 0, bufs, nullptr, nullptr, release_array, nullptr};
    ArrowArray* cols[] = {&col};
    const void* sbufs[1] = {nullptr};
    ArrowArray batch{len, 0, 0, 1, 1, sbufs, cols, nullptr, release_array, nullptr};
    p.consume_batch(root, batch);
  }
  const double t = now() - t0;
  if (json) *json = p.finalize_json();
  return t;
}

template <class F>
double best_of(int reps, F&& f) {
  double best = 1e300;
  for (int r = 0; r < reps; ++r) {
    const double t0 = now();
    f();
    best = std::min(best, now() - t0);
  }
  return best;
}

void report(const char* what, double secs, size_t n) {
  std::printf("  %-28s %8.2f ns/value  %8.1f M/s\n", what, secs * 1e9 / static_cast<double>(n),
              static_cast<double>(n) / secs / 1e6);
}

// Components alone, block by block as ColumnState does (2048 values per block, 64K per batch).
void components(const Column& c, int reps) {
  const size_t n = c.rows;
  std::vector<uint64_t> hashes(n);
  std::vector<double> dbl(n);
  volatile uint64_t sink = 0;
  if (c.format[0] == 'l') {
    report("hash_int",
           best_of(reps,
                   [&] {
                     for (size_t i = 0; i < n; ++i) hashes[i] = hash_int(c.ints[i]);
                   }),
           n);
    for (size_t i = 0; i < n; ++i) dbl[i] = static_cast<double>(c.ints[i]);
  } else if (c.format[0] == 'g') {
    report("hash_double",
           best_of(reps,
                   [&] {
                     for (size_t i = 0; i < n; ++i) hashes[i] = hash_double(c.doubles[i]);
                   }),
           n);
    dbl = c.doubles;
  } else {
    auto sv = [&](size_t i) {
      return std::string_view(c.data.data() + c.offsets[i], c.offsets[i + 1] - c.offsets[i]);
    };
    report("hash_bytes",
           best_of(reps,
                   [&] {
                     for (size_t i = 0; i < n; ++i) {
                       auto v = sv(i);
                       hashes[i] = hash_bytes(v.data(), v.size());
                     }
                   }),
           n);
    report("utf8_length",
           best_of(reps,
                   [&] {
                     uint64_t s = 0;
                     for (size_t i = 0; i < n; ++i) {
                       auto v = sv(i);
                       s += utf8_length(v.data(), v.size());
                     }
                     sink = s;
                   }),
           n);
    report("string min/max",
           best_of(reps,
                   [&] {
                     std::string_view mn = sv(0), mx = mn;
                     for (size_t i = 0; i < n; ++i) {
                       auto v = sv(i);
                       if (v < mn) mn = v;
                       if (v > mx) mx = v;
                     }
                     sink = mn.size() + mx.size();
                   }),
           n);
    report("match_patterns",
           best_of(reps,
                   [&] {
                     uint64_t s = 0;
                     for (size_t i = 0; i < n; ++i) s += match_patterns(sv(i));
                     sink = s;
                   }),
           n);
  }
  report("HyperLogLog",
         best_of(reps,
                 [&] {
                   HyperLogLog h;
                   for (size_t b = 0; b < n; b += 2048)
                     h.update(std::span(hashes.data() + b, std::min<size_t>(2048, n - b)));
                   sink = h.is_exact();
                 }),
         n);
  report("FrequentItems",
         best_of(reps,
                 [&] {
                   FrequentItems f;
                   char buf[9];
                   for (size_t b = 0; b < n; b += 2048)
                     f.update(std::span(hashes.data() + b, std::min<size_t>(2048, n - b)),
                              [&](size_t k) {
                                buf[0] = 'i';
                                const uint64_t v = hashes[b + k];
                                std::memcpy(buf + 1, &v, 8);
                                return std::string_view(buf, 9);
                              });
                   sink = f.num_items();
                 }),
         n);
  if (c.format[0] != 'u') {
    report("Moments",
           best_of(reps,
                   [&] {
                     Moments m;
                     for (size_t b = 0; b < n; b += 2048)
                       m.update(
                           std::span<const double>(dbl.data() + b, std::min<size_t>(2048, n - b)));
                     sink = m.n;
                   }),
           n);
    report("KLL",
           best_of(reps,
                   [&] {
                     KllSketch k;
                     for (size_t b = 0; b < n; b += 2048)
                       k.update(
                           std::span<const double>(dbl.data() + b, std::min<size_t>(2048, n - b)));
                     sink = k.n();
                   }),
           n);
  }
  report("DuplicateCounter",
         best_of(reps,
                 [&] {
                   DuplicateCounter d;
                   std::vector<uint64_t> rh(kBatch);
                   for (size_t b = 0; b < n; b += kBatch) {
                     const size_t m = std::min<size_t>(kBatch, n - b);
                     rh.resize(m);
                     for (size_t i = 0; i < m; ++i) rh[i] = combine_hash(kHashSeed, hashes[b + i]);
                     d.update(rh);
                   }
                   sink = d.rows();
                 }),
         n);
  (void)sink;
}

}  // namespace

int main(int argc, char** argv) {
  const size_t rows = argc > 1 ? std::strtoull(argv[1], nullptr, 10) : 10'000'000;
  const int reps = argc > 2 ? std::atoi(argv[2]) : 3;
  const std::string which = argc > 3 ? argv[3] : "all";
  const bool comp = argc > 4 ? std::atoi(argv[4]) != 0 : true;
  struct Kind {
    const char* name;
    Column (*make)(size_t);
  };
  const Kind kinds[] = {{"int", make_ints}, {"float", make_floats}, {"str", make_strings}};
  for (const auto& k : kinds) {
    if (which != "all" && which != k.name) continue;
    Column c = k.make(rows);
    double best = 1e300;
    std::string json;
    for (int r = 0; r < reps; ++r) best = std::min(best, profile_once(c, r == 0 ? &json : nullptr));
    std::printf("%-6s full profile: %8.1f M values/s  (%.3f s best of %d, %zu rows)\n", k.name,
                static_cast<double>(rows) / best / 1e6, best, reps, rows);
    if (std::getenv("ENGINE_BENCH_JSON")) std::printf("%s\n", json.c_str());
    if (comp) components(c, reps);
    std::fflush(stdout);
  }
  return 0;
}
