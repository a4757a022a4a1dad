// Differential test: hft::fix::parse against QuickFIX/C++'s own parser (FIX::Message from a
// string, validated, no data dictionary), on generated valid messages and on each kind of
// invalid one. Both must agree on valid/invalid and, for valid messages, on every field.
// Where hft is deliberately stricter than QuickFIX, the case says so and checks that the
// difference is exactly the documented one (docs/fix.md, "Stricter than QuickFIX").
#include <quickfix/Message.h>

#include <algorithm>
#include <random>
#include <string>
#include <utility>
#include <vector>

#include "../support/catch.hpp"
#include "fix_support.hpp"
#include "hft/fix/builder.hpp"
#include "hft/fix/message.hpp"

using hft::fix::Message;
using hft::fix::ParseStatus;
using hft::test::bars;

namespace {

using Fields = std::vector<std::pair<int, std::string>>;

struct Verdict {
  bool valid = false;
  Fields fields;  // sorted by (tag, value) when valid
};

Verdict quickfix_verdict(const std::string& wire) {
  Verdict v;
  try {
    FIX::Message m(wire, true);
    int bad_tag = 0;
    if (!m.hasValidStructure(bad_tag)) return v;
    for (const auto* map : {static_cast<const FIX::FieldMap*>(&m.getHeader()), static_cast<const FIX::FieldMap*>(&m),
                            static_cast<const FIX::FieldMap*>(&m.getTrailer())})
      for (auto it = map->begin(); it != map->end(); ++it) v.fields.emplace_back(it->getTag(), it->getString());
    v.valid = true;
  } catch (const FIX::Exception&) {
  }
  std::sort(v.fields.begin(), v.fields.end());
  return v;
}

Verdict hft_verdict(const std::string& wire) {
  Verdict v;
  Message m;
  const auto r = hft::fix::parse(wire, m, {.max_body_length = 1 << 20});
  if (!r.ok() || r.consumed != wire.size()) return v;
  for (const auto& f : m.fields()) v.fields.emplace_back(static_cast<int>(f.tag), std::string(m.value(f)));
  v.valid = true;
  std::sort(v.fields.begin(), v.fields.end());
  return v;
}

ParseStatus hft_status(const std::string& wire) {
  Message m;
  return hft::fix::parse(wire, m, {.max_body_length = 1 << 20}).status;
}

const int kHeaderPool[] = {49, 56, 34, 52, 50, 57, 115, 128, 43, 97, 122, 142, 143};
const char* const kTypes[] = {"0", "1", "2", "3", "4", "5", "8", "9", "A", "D", "F", "j", "AE", "UX"};

bool reserved(int t) {
  const auto u = static_cast<std::uint32_t>(t);
  return hft::fix::is_header_tag(u) || hft::fix::is_trailer_tag(u);
}

std::string random_value(std::mt19937_64& rng) {
  std::string v(1 + rng() % 12, 'a');
  for (char& c : v) {
    const auto pick = rng() % 10;
    c = pick < 6   ? static_cast<char>('0' + rng() % 10)
        : pick < 9 ? static_cast<char>(' ' + rng() % 95)
                   : static_cast<char>(0x80 + rng() % 128);
  }
  return v;
}

/// The fields of a random valid message after 8 and 9: MsgType, some header fields in any
/// order, body fields with distinct tags.
Fields random_fields(std::mt19937_64& rng) {
  Fields f;
  f.emplace_back(35, kTypes[rng() % std::size(kTypes)]);
  std::vector<int> header(std::begin(kHeaderPool), std::end(kHeaderPool));
  std::shuffle(header.begin(), header.end(), rng);
  header.resize(rng() % header.size());
  for (const int t : header) f.emplace_back(t, random_value(rng));
  std::vector<int> body;
  const auto n = rng() % 25;
  while (body.size() < n) {
    const int t = 1 + static_cast<int>(rng() % (rng() % 4 == 0 ? 20000 : 200));
    if (!reserved(t) && std::find(body.begin(), body.end(), t) == body.end()) body.push_back(t);
  }
  for (const int t : body) f.emplace_back(t, random_value(rng));
  return f;
}

std::string body_of(const Fields& f) {
  std::string b;
  for (const auto& [t, v] : f) b += std::to_string(t) + "=" + v + "\x01";
  return b;
}

/// "8=FIX.4.4|9=<len>|" + body + "10=<sum>|", optionally with the length or checksum off.
std::string wire_of(const std::string& body, int len_delta = 0, int sum_delta = 0, int sum_digits = 3,
                    const std::string& begin = "FIX.4.4") {
  std::string m = "8=" + begin +
                  "\x01"
                  "9=" +
                  std::to_string(static_cast<int>(body.size()) + len_delta) + "\x01" + body;
  const unsigned sum = (hft::test::byte_sum(m) + static_cast<unsigned>(sum_delta)) % 256;
  char cs[8];
  (void)std::snprintf(cs, sizeof cs, "%0*u", sum_digits, sum);  // a few digits
  return m + "10=" + cs + "\x01";
}

void check_agree(const std::string& wire, const char* kind) {
  const Verdict ours = hft_verdict(wire), theirs = quickfix_verdict(wire);
  INFO(kind << ": " << bars(wire));
  REQUIRE(ours.valid == theirs.valid);
  if (ours.valid) REQUIRE(ours.fields == theirs.fields);
}

}  // namespace

TEST_CASE("quickfix: valid messages agree on every field") {
  std::mt19937_64 rng(11);
  for (int i = 0; i < 3000; ++i) {
    const std::string wire = wire_of(body_of(random_fields(rng)));
    REQUIRE(hft_verdict(wire).valid);
    check_agree(wire, "valid");
  }
}

TEST_CASE("quickfix: invalid messages are invalid to both") {
  std::mt19937_64 rng(12);
  for (int i = 0; i < 1500; ++i) {
    Fields f = random_fields(rng);
    const std::string body = body_of(f);
    check_agree(wire_of(body, 0, 1 + static_cast<int>(rng() % 255)), "wrong checksum");
    const int delta = (rng() % 2 ? 1 : -1) * (1 + static_cast<int>(rng() % 3));
    if (static_cast<int>(body.size()) + delta > 0) check_agree(wire_of(body, delta), "wrong body length");
    {  // MsgType not third
      Fields g = f;
      g.insert(g.begin(), {49, "X"});
      if (std::count_if(g.begin(), g.end(), [](auto& p) { return p.first == 49; }) == 1)
        check_agree(wire_of(body_of(g)), "msgtype not third");
    }
    {  // a non-numeric tag
      std::string b = body_of(f) + "5x=1\x01";
      check_agree(wire_of(b), "non-numeric tag");
      check_agree(wire_of(body_of(f) + "=1\x01"), "empty tag");
    }
    {  // a header field after a body field
      Fields g = f;
      const bool has_body = std::any_of(g.begin(), g.end(), [](auto& p) { return !reserved(p.first); });
      const bool has_49 = std::any_of(g.begin(), g.end(), [](auto& p) { return p.first == 49; });
      if (has_body && !has_49) {
        g.emplace_back(49, "LATE");
        check_agree(wire_of(body_of(g)), "header after body");
      }
    }
    {  // a body field after a trailer field
      std::string b = body +
                      "93=2\x01"
                      "89=ab\x01"
                      "58=x\x01";
      check_agree(wire_of(b), "body after trailer");
    }
    // Truncated anywhere: never valid to either.
    const std::string good = wire_of(body);
    check_agree(good.substr(0, 1 + rng() % (good.size() - 1)), "truncated");
    // Missing BodyLength.
    check_agree("8=FIX.4.4\x01" + body + "10=000\x01", "no body length");
  }
}

// hft is stricter than QuickFIX in exactly these ways; each is a rule of the FIX spec that
// QuickFIX leaves to its data dictionary or does not check.
TEST_CASE("quickfix: documented strictness, QuickFIX accepts what hft refuses") {
  std::mt19937_64 rng(13);
  for (int i = 0; i < 300; ++i) {
    const std::string body = body_of(random_fields(rng));
    struct Case {
      std::string wire;
      ParseStatus ours;
    };
    const Case cases[] = {
        {wire_of(body + "58=\x01"), ParseStatus::EmptyValue},          // spec: reject reason 4
        {wire_of(body + "058=x\x01"), ParseStatus::InvalidTag},        // leading zero
        {wire_of(body + "-58=x\x01"), ParseStatus::InvalidTag},        // negative tag
        {wire_of(body, 0, 0, 3, "ABC"), ParseStatus::BadBeginString},  // not FIX
    };
    for (const Case& c : cases) {
      INFO(bars(c.wire));
      CHECK(hft_status(c.wire) == c.ours);
      CHECK(quickfix_verdict(c.wire).valid);
    }
    // CheckSum written with fewer than three digits (the spec says always three).
    const std::string short_sum = wire_of(body, 0, 0, 1);
    if (short_sum.size() < wire_of(body).size()) {
      CHECK(hft_status(short_sum) != ParseStatus::Ok);
      CHECK(quickfix_verdict(short_sum).valid);
    }
  }
}

TEST_CASE("quickfix: builder output parses in QuickFIX field for field") {
  std::mt19937_64 rng(14);
  std::vector<char> buf(8192);
  hft::fix::MessageBuilder b(buf);
  for (int i = 0; i < 2000; ++i) {
    const Fields f = random_fields(rng);
    b.start(f[0].second);
    for (std::size_t k = 1; k < f.size(); ++k) b.add(static_cast<std::uint32_t>(f[k].first), f[k].second);
    const std::string wire(b.finish());
    REQUIRE(b.error() == hft::fix::BuildError::None);
    check_agree(wire, "built");
  }
}
