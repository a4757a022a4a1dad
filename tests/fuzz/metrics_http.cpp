// Fuzz target: the HTTP front of mini_oms::MetricsEndpoint (metrics_endpoint.hpp), the bytes a
// remote scraper sends. Its request parsing (serve: the Client buffer, the end of the head,
// the request size limit; respond: request line and headers) is private and runs on the
// endpoint's own thread, so it is reached the way a peer reaches it: two endpoints on
// 127.0.0.1 (ephemeral ports; 8 KiB and 128-byte request limits) live for the whole run, and
// each input is one TCP connection that sends fuzzer-chosen bytes in fuzzer-chosen chunks
// and reads until the server closes (see exchange). The input is either the raw
// bytes or, in structured mode, a valid GET/HEAD /metrics request built from them (fuzzer-
// chosen version, query, headers, CRLF or LF line ends, then trailing bytes). The render
// callback gives one of a few bodies (empty, small, 150 KB: several sends) or throws.
// Invariants:
//   - any bytes get either no reply and a closed connection, or exactly one well-formed
//     reply: "HTTP/1.1 NNN Reason", Content-Type, Content-Length, Connection: close, and a
//     body of Content-Length bytes (none for HEAD, whose Content-Length is GET's), then EOF;
//     the server never hangs (5 s) and never crashes;
//   - the status and body are those of a reference written here from the header's rules
//     (400 over the limit or not HTTP, 405, 404, 200 with the rendered body, 500 with the
//     render's error), whatever way TCP cut the bytes into reads (the answer depends on the
//     bytes alone); no reply only when there is no complete head and the limit is not passed;
//   - a complete valid GET or HEAD /metrics within the size limit always gets 200 (500 when
//     render throws) and exactly the rendered body;
//   - the endpoint's counters move with the reply (scrapes, bad_requests, render_errors).
// It found two answers that depended on the cuts (a blank line straddling the size limit,
// and "\r\n\r\n" preferred over an earlier "\n\n"); their inputs are in the corpus
// (known_bug_*), fixed in the endpoint.
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstdint>
#include <cstdio>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "fuzz_check.hpp"
#include "metrics_endpoint.hpp"

namespace {

constexpr std::size_t kSmallLimit = 128;

std::atomic<int> g_body_kind{0};
std::atomic<bool> g_render_throws{false};

const std::string& body_of(int kind) {
  static const std::string empty;
  static const std::string small = "# TYPE up gauge\nup 1\n";
  static const std::string tricky = "a\r\n\r\nHTTP/1.1 200 OK\n\n";  // a body that looks like a head
  static const std::string large = [] {
    std::string s;
    for (int i = 0; s.size() < 150'000; ++i) {
      s += "oms_requests_total{partition=\"";
      s += std::to_string(i);
      s += "\"} 12345\n";
    }
    return s;
  }();
  switch (kind) {
    case 0:
      return empty;
    case 1:
      return small;
    case 2:
      return large;
    default:
      return tricky;
  }
}

struct Endpoints {
  mini_oms::MetricsEndpoint normal, small;
  Endpoints()
      : normal("127.0.0.1", 0, render),
        small("127.0.0.1", 0, mini_oms::MetricsEndpointConfig{std::chrono::milliseconds(2000), kSmallLimit, 4},
              render) {
    normal.start();
    small.start();
  }
  static void render(std::string& body) {
    if (g_render_throws.load()) throw std::runtime_error("fuzz render error");
    body = body_of(g_body_kind.load());
  }
};

Endpoints& endpoints() {
  static Endpoints e;
  return e;
}

struct Outcome {
  int status;
  std::string body;
  bool head_only = false;
  bool operator==(const Outcome&) const = default;
};

// ---- the reference: metrics_endpoint.hpp's rules, written the slow way ----

bool ctl(char ch) { return (static_cast<unsigned char>(ch) < 0x20 && ch != '\t') || ch == 0x7f; }

Outcome rendered(bool head_only) {
  if (g_render_throws.load()) return {500, "render failed: fuzz render error\n"};
  return {200, body_of(g_body_kind.load()), head_only};
}

Outcome bad_request() { return {400, "bad request\n"}; }

// The request line and headers, without the blank line.
Outcome ref_respond(std::string_view head) {
  // the request line, then header lines, each ended by '\n' (a '\r' before it dropped); a
  // '\n' that ends the head starts no further (empty) header line
  const std::size_t eol = head.find('\n');
  std::string_view line = head.substr(0, eol);
  if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
  std::vector<std::string_view> headers;
  for (std::string_view rest = eol == std::string_view::npos ? std::string_view{} : head.substr(eol + 1);
       !rest.empty();) {
    const std::size_t nl = rest.find('\n');
    std::string_view h = rest.substr(0, nl);
    rest = nl == std::string_view::npos ? std::string_view{} : rest.substr(nl + 1);
    if (!h.empty() && h.back() == '\r') h.remove_suffix(1);
    headers.push_back(h);
  }
  // "METHOD TARGET VERSION": METHOD 1-16 capitals, TARGET '/' and printable, VERSION exact
  const std::size_t sp1 = line.find(' ');
  if (sp1 == std::string_view::npos || sp1 == 0 || sp1 > 16) return bad_request();
  const std::size_t sp2 = line.find(' ', sp1 + 1);
  if (sp2 == std::string_view::npos) return bad_request();
  const std::string_view method = line.substr(0, sp1), target = line.substr(sp1 + 1, sp2 - sp1 - 1);
  const std::string_view version = line.substr(sp2 + 1);
  for (const char ch : method) {
    if (ch < 'A' || ch > 'Z') return bad_request();
  }
  if (target.empty() || target[0] != '/') return bad_request();
  for (const char ch : target) {
    if (static_cast<unsigned char>(ch) <= 0x20 || static_cast<unsigned char>(ch) >= 0x7f) return bad_request();
  }
  if (version != "HTTP/1.1" && version != "HTTP/1.0") return bad_request();
  for (const std::string_view h : headers) {  // "Name: value", no control byte but tab
    const std::size_t colon = h.find(':');
    if (colon == std::string_view::npos || colon == 0) return bad_request();
    for (const char ch : h) {
      if (ctl(ch)) return bad_request();
    }
  }
  if (method != "GET" && method != "HEAD") return {405, "only GET\n"};
  const std::size_t q = target.find('?');
  if (target.substr(0, q) != "/metrics") return {404, "try /metrics\n"};
  return rendered(method == "HEAD");
}

// The head's length: up to the line ending before the first blank line (a line that is
// empty, or only "\r"), found the slow way, line by line.
std::optional<std::size_t> ref_head_length(std::string_view buf) {
  std::size_t start = 0;
  for (;;) {
    const std::size_t nl = buf.find('\n', start);
    if (nl == std::string_view::npos) return std::nullopt;
    const std::size_t next = nl + 1;
    const std::size_t nl2 = buf.find('\n', next);
    if (nl2 == std::string_view::npos) return std::nullopt;
    const std::string_view line = buf.substr(next, nl2 - next);
    if (line.empty() || line == "\r") return nl > 0 && buf[nl - 1] == '\r' ? nl - 1 : nl;
    start = next;
  }
}

// What the server answers to the bytes `sent` (nullopt: it waits for more). The decision
// depends on the bytes only, not on how the reads cut them: one answer.
std::vector<Outcome> ref_outcomes(std::string_view sent, std::size_t limit) {
  const std::optional<std::size_t> end = ref_head_length(sent);
  // Without a blank line the server refuses once it holds limit + 4 bytes (no blank line
  // starting within the limit can come any more); with one, by the head's length.
  if (!end) {
    if (sent.size() >= limit + 4) return {Outcome{400, "request too large\n"}};
    return {};
  }
  // The head ends before limit + 4 bytes were read, or the server refused at limit + 4.
  if (*end > limit) return {Outcome{400, "request too large\n"}};
  return {ref_respond(sent.substr(0, *end))};
}

// ---- the client ----

struct Received {
  std::string bytes;
  bool reset = false;  // ECONNRESET instead of EOF
};

// One connection: sends `sent`, then reads until the server closes. Expecting a reply, the
// client waits for it with its write side open and resets the connection after the server's
// FIN, so no TIME_WAIT is left per input; expecting none, it shuts its write side (the
// server's cue to close) and must then see EOF without a byte.
Received exchange(std::uint16_t port, std::string_view sent, std::size_t max_chunk, bool expect_reply) {
  const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  FUZZ_CHECK(fd >= 0, "socket failed");
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(port);
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  int rc = ::connect(fd, reinterpret_cast<const sockaddr*>(&addr), sizeof addr);
  if (rc != 0 && errno == EINTR) {  // libFuzzer's timer signal: the connection goes on, wait for it
    pollfd p{fd, POLLOUT, 0};
    while (::poll(&p, 1, 5000) < 0 && errno == EINTR) {
    }
    int err = 0;
    socklen_t len = sizeof err;
    rc = ::getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len) == 0 && err == 0 ? 0 : -1;
    errno = err;
  }
  FUZZ_CHECK(rc == 0, "connect failed: %d", errno);
  for (std::size_t at = 0; at < sent.size();) {
    const ssize_t n = ::send(fd, sent.data() + at, std::min(max_chunk, sent.size() - at), MSG_NOSIGNAL);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;  // the server closed: its reply (if any) is still readable
    at += static_cast<std::size_t>(n);
  }
  if (!expect_reply) ::shutdown(fd, SHUT_WR);
  Received r;
  char buf[65536];
  for (;;) {
    pollfd p{fd, POLLIN, 0};
    const int ready = ::poll(&p, 1, 5000);
    if (ready < 0 && errno == EINTR) continue;
    FUZZ_CHECK(ready == 1, "the server neither replied nor closed within 5 s (%zu bytes sent, %zu received)",
               sent.size(), r.bytes.size());
    const ssize_t n = ::recv(fd, buf, sizeof buf, 0);
    if (n > 0) {
      r.bytes.append(buf, static_cast<std::size_t>(n));
    } else if (n == 0) {
      break;
    } else if (errno != EINTR) {
      r.reset = errno == ECONNRESET;
      FUZZ_CHECK(r.reset, "recv failed: %d", errno);
      break;
    }
  }
  const linger reset{1, 0};  // close with RST
  ::setsockopt(fd, SOL_SOCKET, SO_LINGER, &reset, sizeof reset);
  ::close(fd);
  return r;
}

// Parses one reply: status line, the fixed headers, a body of Content-Length bytes.
Outcome parse_reply(std::string_view r, bool expect_head_only) {
  const std::size_t end = r.find("\r\n\r\n");
  FUZZ_CHECK(end != std::string_view::npos, "a reply without the end of its head");
  const std::string_view head = r.substr(0, end);
  const std::string_view body = r.substr(end + 4);
  FUZZ_CHECK(head.starts_with("HTTP/1.1 ") && head.size() >= 13 && head[12] == ' ', "a bad status line");
  int status = 0;
  for (std::size_t i = 9; i < 12; ++i) {
    FUZZ_CHECK(head[i] >= '0' && head[i] <= '9', "a bad status code");
    status = status * 10 + (head[i] - '0');
  }
  const std::size_t cl_at = head.find("\r\nContent-Length: ");
  FUZZ_CHECK(cl_at != std::string_view::npos && head.find("\r\nContent-Length: ", cl_at + 1) == std::string_view::npos,
             "not one Content-Length");
  std::size_t length = 0, i = cl_at + 18;
  FUZZ_CHECK(i < head.size() && head[i] >= '0' && head[i] <= '9', "an empty Content-Length");
  for (; i < head.size() && head[i] >= '0' && head[i] <= '9'; ++i) length = length * 10 + std::size_t(head[i] - '0');
  FUZZ_CHECK(i == head.size() || head[i] == '\r', "a bad Content-Length");
  FUZZ_CHECK(head.find("\r\nConnection: close") != std::string_view::npos, "no Connection: close");
  FUZZ_CHECK(head.find("\r\nContent-Type: text/plain") != std::string_view::npos, "no Content-Type");
  FUZZ_CHECK(status != 405 || head.find("\r\nAllow: GET, HEAD") != std::string_view::npos, "a 405 without Allow");
  if (expect_head_only && status == 200) {
    FUZZ_CHECK(body.empty(), "a HEAD reply with %zu body bytes", body.size());
    return {200, std::string(length, '?'), true};
  }
  FUZZ_CHECK(body.size() == length, "Content-Length %zu, body of %zu bytes (status %d)", length, body.size(), status);
  return {status, std::string(body)};
}

// Structured mode: a valid request for /metrics built from the fuzzer's bytes.
std::string valid_request(FuzzedDataProvider& in, std::size_t limit, bool& head_only) {
  head_only = in.ConsumeBool();
  const bool crlf = in.ConsumeBool();
  const char* eol = crlf ? "\r\n" : "\n";
  std::string line = head_only ? "HEAD /metrics" : "GET /metrics";
  if (in.ConsumeBool()) {
    line += '?';
    for (const char ch : in.ConsumeRandomLengthString(64))
      line += static_cast<char>(0x21 + static_cast<unsigned char>(ch) % 94);
  }
  line += in.ConsumeBool() ? " HTTP/1.1" : " HTTP/1.0";
  std::string head = line;
  const int headers = in.ConsumeIntegralInRange<int>(0, 8);
  for (int h = 0; h < headers; ++h) {
    static constexpr std::string_view kNameChars = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-";
    std::string header;
    for (const char ch : in.ConsumeRandomLengthString(16))
      header += kNameChars[static_cast<unsigned char>(ch) % kNameChars.size()];
    if (header.empty()) header = "Host";
    header += in.ConsumeBool() ? ": " : ":";
    for (const char ch : in.ConsumeRandomLengthString(64)) header += ctl(ch) ? 'x' : ch;
    if (head.size() + std::string_view(eol).size() + header.size() > limit) break;
    head += eol;
    head += header;
  }
  const std::string trailing = in.ConsumeRemainingBytesAsString();
  head += eol;
  head += eol;
  head += trailing;
  return head;
}

std::string printable(std::string_view s) {
  std::string out;
  for (const char ch : s.substr(0, 600)) {
    if (ch >= 0x20 && ch < 0x7f) {
      out += ch;
    } else {
      char b[8];
      (void)std::snprintf(b, sizeof b, "\\x%02x", static_cast<unsigned char>(ch));
      out += b;
    }
  }
  return out;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  Endpoints& eps = endpoints();
  FuzzedDataProvider in(data, size);
  const auto flags = in.ConsumeIntegral<std::uint8_t>();
  const std::size_t max_chunk = in.ConsumeIntegralInRange<std::size_t>(1, 4096);
  const bool use_small = (flags & 1) != 0;
  const bool structured = (flags & 16) != 0;
  g_render_throws.store((flags & 2) != 0);
  g_body_kind.store((flags >> 2) & 3);
  mini_oms::MetricsEndpoint& ep = use_small ? eps.small : eps.normal;
  const std::size_t limit = ep.config().max_request;

  bool head_only = false;
  const std::string sent = structured ? valid_request(in, limit, head_only) : in.ConsumeRemainingBytesAsString();
  const mini_oms::MetricsEndpointStats before = ep.stats();
  const std::vector<Outcome> want = ref_outcomes(sent, limit);
  const Received got = exchange(ep.port(), sent, max_chunk, !want.empty());

  if (got.bytes.empty()) {
    FUZZ_CHECK(want.empty(), "no reply to a complete request: %s", printable(sent).c_str());
    return 0;
  }
  FUZZ_CHECK(!want.empty(), "a reply to an incomplete request: %s", printable(sent).c_str());
  bool any_head = false;
  for (const Outcome& o : want) any_head = any_head || o.head_only;
  const Outcome reply = parse_reply(got.bytes, any_head);
  bool matched = false;
  for (const Outcome& o : want) {
    const bool same =
        o.status == reply.status && (o.head_only ? o.body.size() == reply.body.size() : o.body == reply.body);
    matched = matched || same;
  }
  FUZZ_CHECK(matched, "reply %d (%zu body bytes) is not the reference's for: %s", reply.status, reply.body.size(),
             printable(sent).c_str());
  if (structured) {
    const int expected = g_render_throws.load() ? 500 : 200;
    FUZZ_CHECK(reply.status == expected, "a valid GET/HEAD /metrics got %d: %s", reply.status, printable(sent).c_str());
  }
  const mini_oms::MetricsEndpointStats after = ep.stats();
  if (reply.status == 200) FUZZ_CHECK(after.scrapes == before.scrapes + 1, "a 200 not counted as a scrape");
  if (reply.status == 500) FUZZ_CHECK(after.render_errors == before.render_errors + 1, "a 500 not counted");
  if (reply.status / 100 == 4) FUZZ_CHECK(after.bad_requests == before.bad_requests + 1, "a 4xx not counted");
  return 0;
}
