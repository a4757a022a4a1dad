// Fuzz target: the mini-OMS line protocol front end, as the gateway runs it per connection:
// LineFramer over a byte stream cut into fuzzer-chosen chunks, then parse_header /
// parse_request on every line and the reply the gateway would write.
// Invariants: one reply per terminated line (an over-long line counts once), checked
//   against a reference framer written here; each line is delivered byte for byte as the
//   reference cuts it; every reply is one line of at most kMaxReply bytes that starts with
//   the request's req_id (or '-' when it has none); a request that parses re-reads to the
//   same fields.
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "fuzz_check.hpp"
#include "line_protocol.hpp"

namespace {

struct Cut {
  bool overlong;
  std::string text;  // the line without '\n' (and a trailing '\r'), or the over-long prefix
};

// The framing rule of docs/protocol.md, written the slow way: lines end at '\n'; one that
// reaches kMaxLine bytes without its '\n' is over-long, reported once by its first kMaxLine
// bytes, and skipped to its '\n'.
std::vector<Cut> reference_cuts(std::string_view s) {
  std::vector<Cut> out;
  std::size_t start = 0;
  while (start < s.size()) {
    const std::size_t nl = s.find('\n', start);
    const std::size_t len = (nl == std::string_view::npos ? s.size() : nl) - start;
    if (len >= mini_oms::kMaxLine) {
      out.push_back({true, std::string(s.substr(start, mini_oms::kMaxLine))});
    } else if (nl != std::string_view::npos) {
      std::string line(s.substr(start, len));
      if (!line.empty() && line.back() == '\r') line.pop_back();
      out.push_back({false, std::move(line)});
    }
    if (nl == std::string_view::npos) break;
    start = nl + 1;
  }
  return out;
}

std::string reply_for(std::string_view line, std::uint64_t& seq, FuzzedDataProvider& in) {
  char buf[mini_oms::kMaxReply];
  std::size_t n;
  const mini_oms::Header h = mini_oms::parse_header(line);
  const auto req = mini_oms::parse_request(line);
  if (req) {
    FUZZ_CHECK(h.req_id && *h.req_id == req->req_id, "the header and the request disagree on req_id");
    FUZZ_CHECK(h.corr && *h.corr == req->corr, "the header and the request disagree on the correlation id");
    FUZZ_CHECK(req->qty >= 1 && req->qty <= mini_oms::kMaxQty && req->price.ticks() > 0, "a request out of range");
    const std::int64_t filled = in.ConsumeIntegralInRange<std::int64_t>(0, req->qty);
    const hft::Notional notional = static_cast<hft::Notional>(filled) * req->price.ticks();
    n = mini_oms::format_ack(buf, req->req_id, ++seq, filled, notional);
  } else {
    n = mini_oms::format_rej(buf, h.req_id, mini_oms::Reason::BadMsg);
  }
  return std::string(buf, n);
}

void check_reply(std::string_view reply, std::optional<std::uint64_t> req_id) {
  FUZZ_CHECK(!reply.empty() && reply.size() <= mini_oms::kMaxReply, "reply of %zu bytes", reply.size());
  FUZZ_CHECK(reply.back() == '\n' && reply.find('\n') == reply.size() - 1, "a reply is not one line");
  const std::string id = req_id ? std::to_string(*req_id) : std::string("-");
  FUZZ_CHECK(reply.substr(0, id.size() + 1) == id + " ", "a reply that does not start with its req_id");
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  FuzzedDataProvider in(data, size);
  const unsigned max_chunk = in.ConsumeIntegralInRange<unsigned>(1, 600);
  const std::string stream = in.ConsumeRandomLengthString(4096);
  const std::vector<Cut> want = reference_cuts(stream);

  mini_oms::LineFramer framer;
  std::vector<Cut> got;
  std::uint64_t seq = 0;
  std::size_t replies = 0;
  std::uint32_t lcg = max_chunk;
  for (std::size_t at = 0; at < stream.size();) {
    lcg = lcg * 1664525u + 1013904223u;
    const std::size_t chunk = std::min<std::size_t>(stream.size() - at, 1 + (lcg >> 8) % max_chunk);
    framer.feed(
        stream.data() + at, chunk,
        [&](std::string_view line) {
          got.push_back({false, std::string(line)});
          check_reply(reply_for(line, seq, in), mini_oms::parse_header(line).req_id);
          ++replies;
        },
        [&](std::string_view prefix) {
          got.push_back({true, std::string(prefix)});
          char buf[mini_oms::kMaxReply];
          const auto id = mini_oms::overlong_req_id(prefix);
          check_reply(std::string_view(buf, mini_oms::format_rej(buf, id, mini_oms::Reason::BadMsg)), id);
          ++replies;
        });
    at += chunk;
  }
  FUZZ_CHECK(got.size() == want.size(), "%zu lines framed, the reference cuts %zu", got.size(), want.size());
  FUZZ_CHECK(replies == want.size(), "%zu replies for %zu lines", replies, want.size());
  for (std::size_t i = 0; i < want.size(); ++i) {
    FUZZ_CHECK(got[i].overlong == want[i].overlong && got[i].text == want[i].text, "line %zu framed differently", i);
  }
  return 0;
}
