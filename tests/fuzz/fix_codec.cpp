// Fuzz target: fix::parse over arbitrary bytes, walked the way a session walks its receive
// buffer (parse, drop `consumed`, repeat), and every message that parses goes through
// MessageBuilder and back through the parser.
// Invariants: parse never reads outside the buffer (ASan), always makes progress unless it
//   asks for more bytes, and a parsed message rebuilt from its fields parses to the same
//   fields; with a canonical BodyLength (no leading zeros) the rebuilt bytes are identical.
#include <cstdint>
#include <string_view>
#include <vector>

#include "fuzz_check.hpp"
#include "hft/fix/builder.hpp"
#include "hft/fix/message.hpp"

namespace {

void round_trip(const hft::fix::Message& m) {
  static std::vector<char> buf(std::size_t{64} * 1024);
  hft::fix::MessageBuilder b(buf, m.begin_string());
  b.start(m.msg_type());
  const auto fields = m.fields();
  // fields: 8, 9, 35, the body..., 10.
  for (std::size_t i = 3; i + 1 < fields.size(); ++i) b.add(fields[i].tag, m.value(fields[i]));
  const std::string_view wire = b.finish();
  FUZZ_CHECK(!wire.empty(), "the builder refused fields the parser accepted (error %d, tag %u)",
             static_cast<int>(b.error()), b.error_tag());
  hft::fix::Message again;
  const auto r = hft::fix::parse(wire, again, hft::fix::ParserConfig{.max_body_length = 1u << 20});
  FUZZ_CHECK(r.ok() && r.consumed == wire.size(), "a rebuilt message does not parse (status %d, tag %u)",
             static_cast<int>(r.status), r.tag);
  const auto f2 = again.fields();
  FUZZ_CHECK(f2.size() == fields.size(), "field count %zu != %zu", f2.size(), fields.size());
  for (std::size_t i = 0; i < fields.size(); ++i) {
    FUZZ_CHECK(f2[i].tag == fields[i].tag, "field %zu: tag %u != %u", i, f2[i].tag, fields[i].tag);
    if (fields[i].tag == 9 || fields[i].tag == 10) continue;  // leading zeros in 9 change both
    FUZZ_CHECK(again.value(f2[i]) == m.value(fields[i]), "field %zu (tag %u) changed value", i, fields[i].tag);
  }
  const std::string_view len = m.value(fields[1]);
  if (len.size() == 1 || len.front() != '0') FUZZ_CHECK(wire == m.raw(), "a canonical message rebuilt differently");
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string_view in(reinterpret_cast<const char*>(data), size);
  hft::fix::Message m;
  while (!in.empty()) {
    const auto r = hft::fix::parse(in, m);
    if (r.status == hft::fix::ParseStatus::Incomplete) {
      FUZZ_CHECK(r.consumed == 0, "Incomplete consumed %u", r.consumed);
      break;
    }
    FUZZ_CHECK(r.consumed > 0 && r.consumed <= in.size(), "consumed %u of %zu", r.consumed, in.size());
    if (r.ok()) {
      FUZZ_CHECK(m.raw().size() == r.consumed && m.raw().data() == in.data(), "the message is not the frame");
      FUZZ_CHECK(m.fields().size() >= 4, "an Ok message with %zu fields", m.fields().size());
      round_trip(m);
    }
    in.remove_prefix(r.consumed);
  }
  return 0;
}
