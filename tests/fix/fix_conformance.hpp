// The FIX session conformance scripts (tests/fix/conformance/*.fixscript): their reader and the
// pieces both runners share (fix/session_conformance_test.cpp drives fix::Session in memory,
// mini_oms/fix_conformance_test.cpp drives the mini-OMS acceptor over TCP).
//
// A script is one case of the FIX Session Layer Test Cases, written as the bytes exchanged.
// "We" are the counterparty (CompID CLIENT); the session under test is HFT. One step a line:
//
//   # case: 2.q  MsgType not valid          header comments: the case and what the spec expects
//   # spec: Reject, SessionRejectReason 11; the inbound MsgSeqNum is incremented.
//   # tcp: skip <why>  / # mem: skip <why>  this runner does not play the script, and why
//   config key=value      before the first other step (in memory only): SessionConfig fields
//                         role=acceptor|initiator, heartbeat_interval_s, reset_on_logon,
//                         answer_logout_at_once, max_message_size, logon_timeout_ns,
//                         logout_timeout_ns, and, where the session has them,
//                         max_sending_time_skew_ns and resend_timeout_ns
//   > 35=A|34=1|108=30|   we send a message: the runner writes 8=FIX.4.4 (or the line's own 8=,
//                         given first), 9, then 35 and right after it 49=CLIENT, 56=HFT and
//                         52=<now> unless the line gives them, then the line's fields in its
//                         order, then 10. MsgSeqNum(34) is never filled in. `-56` leaves a
//                         filled-in field out; `56=` sends it empty.
//   >raw 8=FIX.4.4|9=<len>|...|10=<badsum>|   exact bytes ('|' is SOH); <len> is the length
//                         from after 9=<len>| to the last "10=", <sum> the right CheckSum,
//                         <badsum> a wrong one, {{35=D|34=2|...}} a whole message framed as by
//                         `>` (to embed one message inside another's bytes)
//   < 35=3|45=2|373=11|   the next message the session sends carries at least these fields
//                         (49=HFT and 56=CLIENT are checked too). `58=*`: present; `-141`:
//                         absent; `34=!1`: present and not 1; `112=@id`: present, and
//                         remembered as @id for later lines
//   <none                 the session sent nothing more (yet)
//   app 35=D|11=o1|       the next application message delivered carries these fields
//   noapp                 no application message was delivered
//   time +31s             the clock moves (also +200ms); `timer` calls on_timer()
//   state LoggedOn        the session's state (SessionState names)
//   expect disconnect     the session ended (Disconnected) and sent nothing more
//   call send_app 35=8|11=r1|...   call logout [text]   call disconnect
//   restart               a new Session over the same MessageStore (the old one, if still
//                         connected, is disconnected first), started
//   conn 2                (TCP only) switch to, and open, a second connection
// Values: <now>, <now+10s>, <now-121s>, <now+500ms> are UTC timestamps from the runner's clock;
// <x300> is 300 'x'; CLIENT and HFT, as a whole value, are the runner's two CompIDs.
// A line may start with [mem] or [tcp]: only that runner plays it (where the two differ by
// design, e.g. the mini-OMS answers an invalid order with an ExecutionReport, not a Reject).
#pragma once

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "fix_support.hpp"
#include "hft/fix/builder.hpp"
#include "hft/fix/message.hpp"

namespace hft::test::conformance {

enum class Runner : std::uint8_t { Mem, Tcp };

struct Step {
  int line = 0;
  std::string op;    // ">", ">raw", "<", "<none", "app", "noapp", "time", "timer", "state", "expect", "call",
                     // "config", "restart", "conn"
  std::string arg;   // the rest of the line
  std::string text;  // the whole line, for messages
};

struct Script {
  std::string name;  // file name without .fixscript
  std::string path;
  std::string title;  // the "# case:" line
  std::string skip_mem, skip_tcp;
  std::vector<Step> steps_mem, steps_tcp;
  [[nodiscard]] const std::vector<Step>& steps(Runner r) const { return r == Runner::Mem ? steps_mem : steps_tcp; }
  [[nodiscard]] const std::string& skip(Runner r) const { return r == Runner::Mem ? skip_mem : skip_tcp; }
};

/// The two CompIDs a runner uses: CLIENT (ours, the counterparty's) and HFT (the session's).
struct Ids {
  std::string client = "CLIENT";
  std::string hft = "HFT";
};

/// Remembered values (@name) of one script run.
using Vars = std::map<std::string, std::string, std::less<>>;

inline std::string trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r')) s.remove_suffix(1);
  return std::string(s);
}

inline Script load(const std::filesystem::path& p) {
  Script s;
  s.path = p.string();
  s.name = p.stem().string();
  std::ifstream in(p);
  if (!in) throw std::runtime_error("cannot read " + s.path);
  std::string raw;
  int n = 0;
  while (std::getline(in, raw)) {
    ++n;
    std::string line = trim(raw);
    if (line.empty()) continue;
    if (line[0] == '#') {
      const std::string c = trim(std::string_view(line).substr(1));
      if (c.rfind("case:", 0) == 0) s.title = trim(std::string_view(c).substr(5));
      if (c.rfind("tcp: skip", 0) == 0) s.skip_tcp = trim(std::string_view(c).substr(9));
      if (c.rfind("mem: skip", 0) == 0) s.skip_mem = trim(std::string_view(c).substr(9));
      continue;
    }
    bool mem = true, tcp = true;
    if (line.rfind("[mem]", 0) == 0) {
      tcp = false;
      line = trim(std::string_view(line).substr(5));
    } else if (line.rfind("[tcp]", 0) == 0) {
      mem = false;
      line = trim(std::string_view(line).substr(5));
    }
    Step st;
    st.line = n;
    st.text = line;
    if (line.rfind(">raw", 0) == 0) {
      st.op = ">raw";
      st.arg = trim(std::string_view(line).substr(4));
    } else if (line.rfind("<none", 0) == 0) {
      st.op = "<none";
    } else if (line[0] == '>' || line[0] == '<') {
      st.op = line.substr(0, 1);
      st.arg = trim(std::string_view(line).substr(1));
    } else {
      const auto sp = line.find(' ');
      st.op = line.substr(0, sp);
      st.arg = sp == std::string::npos ? std::string() : trim(std::string_view(line).substr(sp + 1));
    }
    static const char* const kOps[] = {">",     "<",      "<none", "app",    "noapp",   "time", "timer",
                                       "state", "expect", "call",  "config", "restart", "conn", ">raw"};
    if (std::find_if(std::begin(kOps), std::end(kOps), [&](const char* o) { return st.op == o; }) == std::end(kOps))
      throw std::runtime_error(s.path + ":" + std::to_string(n) + ": unknown step '" + line + "'");
    if (mem) s.steps_mem.push_back(st);
    if (tcp) s.steps_tcp.push_back(st);
  }
  return s;
}

inline std::vector<std::filesystem::path> list(const std::filesystem::path& dir) {
  std::vector<std::filesystem::path> out;
  for (const auto& e : std::filesystem::directory_iterator(dir))
    if (e.path().extension() == ".fixscript") out.push_back(e.path());
  std::sort(out.begin(), out.end());
  return out;
}

/// Plays the steps of `s` for runner `r`: `step(st)` returns why a step failed (empty when it
/// held) or throws. Returns the first failure with the script's file and line, or empty.
template <class StepFn>
std::string play(const Script& s, Runner r, StepFn&& step) {
  for (const Step& st : s.steps(r)) {
    std::string why;
    try {
      why = step(st);
    } catch (const std::exception& e) {
      why = e.what();
    }
    if (!why.empty())
      return s.path + ":" + std::to_string(st.line) + ": `" + st.text + "`" + (r == Runner::Tcp ? " (TCP)" : "") +
             "\n  " + why;
  }
  return {};
}

/// "YYYYMMDD-HH:MM:SS.sss" (UTC) from nanoseconds since the Unix epoch.
inline std::string utc_timestamp(std::uint64_t ns) {
  char out[21];
  hft::fix::MessageBuilder::format_timestamp(ns, out);  // the builder's own, which tests compare with gmtime_r
  return std::string(out, sizeof out);
}

/// "+31s", "-121s", "+200ms" -> signed nanoseconds.
inline std::int64_t parse_duration(std::string_view d) {
  const bool neg = !d.empty() && d[0] == '-';
  if (!d.empty() && (d[0] == '+' || d[0] == '-')) d.remove_prefix(1);
  std::int64_t unit = 1'000'000'000;
  if (d.size() > 2 && d.substr(d.size() - 2) == "ms") {
    unit = 1'000'000;
    d.remove_suffix(2);
  } else if (!d.empty() && d.back() == 's') {
    d.remove_suffix(1);
  } else {
    throw std::runtime_error("bad duration '" + std::string(d) + "' (want +Ns or +Nms)");
  }
  const auto v = hft::fix::Message::to_int(d);
  if (!v) throw std::runtime_error("bad duration '" + std::string(d) + "'");
  return (neg ? -1 : 1) * *v * unit;
}

/// A value with its placeholders replaced: <now...>, <xN>, @var, CLIENT/HFT.
inline std::string expand(std::string_view v, std::uint64_t now, const Ids& ids, const Vars& vars) {
  if (v == "CLIENT") return ids.client;
  if (v == "HFT") return ids.hft;
  if (!v.empty() && v[0] == '@') {
    const auto it = vars.find(v);
    if (it == vars.end()) throw std::runtime_error("no value remembered as " + std::string(v));
    return it->second;
  }
  std::string out;
  std::size_t i = 0;
  while (i < v.size()) {
    if (v[i] == '<') {
      const auto close = v.find('>', i);
      if (close != std::string_view::npos) {
        const std::string_view ph = v.substr(i + 1, close - i - 1);
        if (ph.rfind("now", 0) == 0) {
          const std::int64_t off = ph.size() > 3 ? parse_duration(ph.substr(3)) : 0;
          out += utc_timestamp(static_cast<std::uint64_t>(static_cast<std::int64_t>(now) + off));
          i = close + 1;
          continue;
        }
        if (ph.size() > 1 && ph[0] == 'x') {
          if (const auto n = hft::fix::Message::to_int(ph.substr(1)); n && *n > 0) {
            out.append(static_cast<std::size_t>(*n), 'x');
            i = close + 1;
            continue;
          }
        }
      }
    }
    out += v[i++];
  }
  return out;
}

struct FieldSpec {
  std::string tag;  // as written (may be "0" or "-1" in a `>` line)
  std::string value;
  bool omit = false;  // "-56"
};

/// "35=D|11=x|-56|" -> fields. A value may hold '=' (only the first splits).
inline std::vector<FieldSpec> fields(std::string_view s) {
  std::vector<FieldSpec> out;
  while (!s.empty()) {
    const auto bar = s.find('|');
    const std::string_view f = s.substr(0, bar);
    s = bar == std::string_view::npos ? std::string_view{} : s.substr(bar + 1);
    if (trim(f).empty()) continue;
    const auto eq = f.find('=');
    if (eq == std::string_view::npos) {
      if (f[0] != '-') throw std::runtime_error("field '" + std::string(f) + "' has no '='");
      out.push_back({std::string(f.substr(1)), {}, true});
    } else {
      out.push_back({std::string(f.substr(0, eq)), std::string(f.substr(eq + 1)), false});
    }
  }
  return out;
}

/// A `>` line's message, framed.
inline std::string build(std::string_view arg, std::uint64_t now, const Ids& ids, const Vars& vars) {
  std::vector<FieldSpec> fs = fields(arg);
  std::string begin = "FIX.4.4";
  if (!fs.empty() && fs[0].tag == "8") {
    begin = fs[0].value;
    fs.erase(fs.begin());
  }
  if (fs.empty() || fs[0].tag != "35") throw std::runtime_error("a `>` line starts with 35= (after an optional 8=)");
  auto given = [&](const char* t) {
    return std::any_of(fs.begin(), fs.end(), [&](const FieldSpec& f) { return f.tag == t; });
  };
  std::string body = "35=" + expand(fs[0].value, now, ids, vars) + "|";
  if (!given("49")) body += "49=" + ids.client + "|";
  if (!given("56")) body += "56=" + ids.hft + "|";
  if (!given("52")) body += "52=" + utc_timestamp(now) + "|";
  for (std::size_t i = 1; i < fs.size(); ++i) {
    if (fs[i].omit) continue;
    body += fs[i].tag + "=" + expand(fs[i].value, now, ids, vars) + "|";
  }
  return frame(body, begin);
}

/// A `>raw` line's bytes.
inline std::string build_raw(std::string_view arg, std::uint64_t now, const Ids& ids, const Vars& vars) {
  // Embedded messages first: {{...}} -> a framed message.
  std::string s;
  for (std::size_t i = 0; i < arg.size();) {
    if (arg.substr(i, 2) == "{{") {
      const auto close = arg.find("}}", i);
      if (close == std::string_view::npos) throw std::runtime_error("{{ without }}");
      s += bars(build(arg.substr(i + 2, close - i - 2), now, ids, vars));
      i = close + 2;
    } else {
      s += arg[i++];
    }
  }
  // Then each top-level field's value (an embedded message's fields are already final).
  std::string out;
  std::size_t i = 0;
  while (i < s.size()) {
    auto bar = s.find('|', i);
    if (bar == std::string::npos) bar = s.size();
    const std::string f = s.substr(i, bar - i);
    const auto eq = f.find('=');
    if (eq == std::string::npos) {
      out += f;
    } else {
      out += f.substr(0, eq + 1);
      out += expand(std::string_view(f).substr(eq + 1), now, ids, vars);
    }
    if (bar < s.size()) out += '|';
    i = bar + 1;
  }
  std::string w = soh(out);
  const auto len_at = w.find(
      "\x01"
      "9=<len>\x01");
  if (len_at != std::string::npos) {
    const std::size_t body_at = len_at + 9;  // SOH "9=<len>" SOH
    const auto trailer = w.rfind(
        "\x01"
        "10=");
    if (trailer == std::string::npos || trailer + 1 < body_at) throw std::runtime_error("<len> without a 10= after it");
    w.replace(len_at + 3, 5, std::to_string(trailer + 1 - body_at));
  }
  for (const char* ph : {"<sum>", "<badsum>"}) {
    const auto at = w.rfind(ph);
    if (at == std::string::npos) continue;
    unsigned sum = byte_sum(std::string_view(w).substr(0, at - 3));
    if (std::string_view(ph) == "<badsum>") sum = (sum + 1) % 256;
    char cs[8];
    (void)std::snprintf(cs, sizeof cs, "%03u", sum);
    w.replace(at, std::string_view(ph).size(), cs);
  }
  return w;
}

/// Checks a `<` line against a message the session sent: "" when it matches, else why not.
inline std::string check(std::string_view arg, std::string_view wire, const Ids& ids, Vars& vars) {
  hft::fix::Message m;
  const auto r = hft::fix::parse(wire, m, {.max_body_length = 1u << 20});
  if (!r.ok()) return "it does not parse: " + std::string(hft::fix::to_string(r.status));
  std::vector<FieldSpec> fs = fields(arg);
  auto given = [&](const char* t) {
    return std::any_of(fs.begin(), fs.end(), [&](const FieldSpec& f) { return f.tag == t; });
  };
  if (!given("49")) fs.push_back({"49", "HFT", false});
  if (!given("56")) fs.push_back({"56", "CLIENT", false});
  std::string why;
  for (const FieldSpec& f : fs) {
    const auto tag = hft::fix::Message::to_int(f.tag);
    if (!tag || *tag <= 0) return "bad tag '" + f.tag + "' in the expectation";
    const std::string_view got = m.get(static_cast<std::uint32_t>(*tag));
    if (f.omit) {
      if (!got.empty()) why += f.tag + " should be absent, is " + std::string(got) + "; ";
    } else if (f.value == "*") {
      if (got.empty()) why += f.tag + " missing; ";
    } else if (!f.value.empty() && f.value[0] == '@') {
      if (got.empty())
        why += f.tag + " missing; ";
      else
        vars[f.value] = std::string(got);
    } else if (!f.value.empty() && f.value[0] == '!') {
      const std::string not_want = expand(std::string_view(f.value).substr(1), 0, ids, vars);
      if (got.empty() || got == not_want)
        why +=
            f.tag + "=" + (got.empty() ? std::string("<absent>") : std::string(got)) + ", want not " + not_want + "; ";
    } else {
      const std::string want = expand(f.value, 0, ids, vars);
      if (got != want)
        why += f.tag + "=" + (got.empty() ? std::string("<absent>") : std::string(got)) + ", want " + want + "; ";
    }
  }
  return why;
}

/// The fields of a wire message, for the `app` step in memory.
inline std::string check_fields(std::string_view arg, const hft::fix::Message& m, const Ids& ids, Vars& vars) {
  std::string why;
  for (const FieldSpec& f : fields(arg)) {
    const auto tag = hft::fix::Message::to_int(f.tag);
    if (!tag || *tag <= 0) return "bad tag '" + f.tag + "'";
    const std::string_view got = m.get(static_cast<std::uint32_t>(*tag));
    if (f.omit) {
      if (!got.empty()) why += f.tag + " should be absent; ";
    } else if (f.value == "*") {
      if (got.empty()) why += f.tag + " missing; ";
    } else if (got != expand(f.value, 0, ids, vars)) {
      why += f.tag + "=" + std::string(got) + ", want " + f.value + "; ";
    }
  }
  return why;
}

}  // namespace hft::test::conformance
