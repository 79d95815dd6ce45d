#include "telemetry/ids.h"

#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <set>
#include <thread>
#include <vector>

namespace lantern::telemetry {
namespace {

TEST(Ids, AreValidAndDistinct) {
  std::set<TraceId> traces;
  std::set<SpanId> spans;
  for (int i = 0; i < 10000; ++i) {
    TraceId t = NewTraceId();
    SpanId s = NewSpanId();
    ASSERT_TRUE(IsValid(t));
    ASSERT_TRUE(IsValid(s));
    traces.insert(t);
    spans.insert(s);
  }
  EXPECT_EQ(traces.size(), 10000u);
  EXPECT_EQ(spans.size(), 10000u);
}

TEST(Ids, BitsAreBalanced) {
  // Each of the 128 bit positions should be set about half the time.
  constexpr int kDraws = 4000;
  std::vector<int> ones(128, 0);
  for (int i = 0; i < kDraws; ++i) {
    TraceId t = NewTraceId();
    for (int bit = 0; bit < 128; ++bit) ones[bit] += (t[bit / 8] >> (bit % 8)) & 1;
  }
  for (int bit = 0; bit < 128; ++bit) {
    // 6 standard deviations (sqrt(4000)/2 = 31.6) around 2000.
    EXPECT_NEAR(ones[bit], kDraws / 2, 190) << "bit " << bit;
  }
}

TEST(Ids, ThreadsGetDifferentStreams) {
  std::vector<SpanId> a(1000), b(1000);
  std::thread ta([&] {
    for (auto& id : a) id = NewSpanId();
  });
  std::thread tb([&] {
    for (auto& id : b) id = NewSpanId();
  });
  ta.join();
  tb.join();
  std::set<SpanId> all(a.begin(), a.end());
  all.insert(b.begin(), b.end());
  EXPECT_EQ(all.size(), 2000u);
}

TEST(Ids, ChildProcessReseedsAfterFork) {
  NewSpanId();  // this thread's generator is seeded before the fork
  int fds[2];
  ASSERT_EQ(pipe(fds), 0);
  pid_t pid = fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    SpanId child[4];
    for (auto& id : child) id = NewSpanId();
    ssize_t n = write(fds[1], child, sizeof child);
    _exit(n == sizeof child ? 0 : 1);
  }
  SpanId parent[4];
  for (auto& id : parent) id = NewSpanId();
  SpanId child[4];
  ASSERT_EQ(read(fds[0], child, sizeof child), static_cast<ssize_t>(sizeof child));
  int status = 0;
  waitpid(pid, &status, 0);
  close(fds[0]);
  close(fds[1]);
  // Without reseeding, the child would repeat the parent's sequence exactly.
  for (int i = 0; i < 4; ++i) EXPECT_NE(parent[i], child[i]);
}

TEST(Ids, HexRoundTripIsLowerCase) {
  TraceId t{};
  ASSERT_TRUE(ParseHex("0af7651916cd43dd8448eb211c80319c", &t));
  EXPECT_EQ(t[0], 0x0a);
  EXPECT_EQ(t[15], 0x9c);
  EXPECT_EQ(ToHex(t), "0af7651916cd43dd8448eb211c80319c");
  SpanId s{};
  EXPECT_FALSE(ParseHex("B7AD6B7169203331", &s));
  EXPECT_FALSE(ParseHex("b7ad6b716920333", &s));
  ASSERT_TRUE(ParseHex("b7ad6b7169203331", &s));
  EXPECT_EQ(ToHex(s), "b7ad6b7169203331");
  EXPECT_FALSE(IsValid(SpanId{}));
}

}  // namespace
}  // namespace lantern::telemetry
