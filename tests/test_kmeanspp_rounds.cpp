// The draw of a k-means++ round (kernels/kmeanspp.cuh): a search over the chunks' offsets and a
// walk over one chunk land on the row that a binary search over every row's cumulative potential
// finds (lower bound; upper bound with weights), draws on the boundaries included.
#include <gtest/gtest.h>

#include <algorithm>
#include <random>
#include <vector>

#include "kernels/kmeanspp.cuh"

using namespace embcluster;

namespace {

// The row a draw r picks through the chunks, as the host loop does.
int64_t pick(const std::vector<float>& closest, const double* w, const std::vector<double>& off,
             double r) {
  const int64_t m = static_cast<int64_t>(closest.size());
  const int64_t chunks = static_cast<int64_t>(off.size()) - 1;
  return kern::draw_row(off.data(), chunks, closest.data(), w, m, r, w != nullptr);
}

TEST(KMeansPlusPlusDraw, ChunksAndWalkEqualASearchOverEveryRow) {
  std::mt19937 gen(5);
  const int64_t m = 5 * kern::kPlusPlusChunk + 77, C = kern::kPlusPlusChunk;
  const int64_t chunks = (m + C - 1) / C;
  std::vector<float> closest(static_cast<size_t>(m));
  std::vector<double> w(static_cast<size_t>(m));
  std::uniform_real_distribution<float> u(0.0f, 4.0f);
  for (int64_t i = 0; i < m; ++i) {
    closest[i] = (i % 11 == 0 || (i / C == 2)) ? 0.0f : u(gen);  // zeros, and a chunk of zeros
    w[i] = (i % 7 == 0) ? 0.0 : 0.5 + u(gen);
  }
  const double* none = nullptr;
  for (const double* weights : {none, static_cast<const double*>(w.data())}) {
    // Offsets from the chunks' potentials, and every row's cumulative potential.
    std::vector<double> off(static_cast<size_t>(chunks + 1)), cum(static_cast<size_t>(m));
    for (int64_t ch = 0; ch < chunks; ++ch) {
      const int64_t b = ch * C, e = std::min(m, b + C);
      const double t = kern::chunk_potential(closest.data(), closest.data(), 1, b, e, weights);
      double part = 0;
      for (int64_t i = b; i < e; ++i) {
        part = kern::add_weighted(part, weights, i, closest[i]);
        cum[i] = off[ch] + part;
      }
      ASSERT_EQ(part, t);
      off[ch + 1] = off[ch] + t;
    }
    std::vector<double> draws;
    std::uniform_real_distribution<double> ud(0.0, 1.0);
    for (int i = 0; i < 2000; ++i) draws.push_back(ud(gen) * off[chunks]);
    for (int64_t i = 0; i < m; i += 37) draws.push_back(cum[i]);  // exactly on a row's value
    draws.push_back(0.0);
    draws.push_back(off[chunks]);
    draws.push_back(off[chunks] * 2);  // past the end: the last row
    for (const double r : draws) {
      const auto it = weights ? std::upper_bound(cum.begin(), cum.end(), r)
                              : std::lower_bound(cum.begin(), cum.end(), r);
      const int64_t want = std::min<int64_t>(it - cum.begin(), m - 1);
      ASSERT_EQ(pick(closest, weights, off, r), want) << "r = " << r;
      if (weights && want < m - 1) EXPECT_GT(weights[want], 0.0) << "r = " << r;
    }
  }
}

}  // namespace
