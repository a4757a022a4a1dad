#!/usr/bin/env python3
"""Mutation check of fix::Session's issue-35 rules: each mutant reverts one fix in a copy of
include/hft/fix/session.hpp, builds tests/fix/session_test.cpp against it, and must make at
least one test fail. A mutant that survives means a rule no test pins down.

    python3 scripts/fix-session-mutants.py [name-substring ...]

Not part of CI (about 15 s of compiling per mutant); run it after changing session.hpp. A
mutant whose snippet is no longer in the header is reported as NOT FOUND: update it with
the code it reverts. Exit status 1 when a mutant survives or is not found.
"""
import os, shutil, subprocess, sys, tempfile
root=os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
src=os.path.join(root,'include/hft/fix/session.hpp')
base=open(src).read()
muts=[
 ("defect1 delivery after a Logout","    } else {\n      // LoggedOn, LogoutSent, and LogoutReceived too","    } else if (state_ != SessionState::LoggedOn) {\n      advance_expected(seq + 1);\n    } else {\n      // LoggedOn, LogoutSent, and LogoutReceived too"),
 ("defect4 room for the resend","wire.size() + kResendGrowth > cfg_.max_message_size","wire.size() > cfg_.max_message_size"),
 ("defect2 reset before validation","    const bool pre_logon = state_ == SessionState::AwaitingLogon || state_ == SessionState::LogonSent;\n    if (seq != 1) {","    const bool pre_logon = state_ == SessionState::AwaitingLogon || state_ == SessionState::LogonSent;\n    reset_numbers();\n    if (seq != 1) {"),
 ("defect3 rejectable first message","    if (pre_logon && !logon) {","    if (pre_logon && r.ok() && !logon) {"),
 ("defect3 recorded refusal","    if (state_ != SessionState::AwaitingLogon) store_.set_next_sender_seq(next_out_);","    store_.set_next_sender_seq(next_out_);"),
 ("defect4 size","if (wire.empty() || wire.size() + kResendGrowth > cfg_.max_message_size) return 0;","if (wire.empty()) return 0;"),
 ("at-least-once","      handler_.on_app_message(msg_);\n      advance_expected(seq + 1);","      advance_expected(seq + 1);\n      handler_.on_app_message(msg_);"),
 ("gap timeout","if (resend_until_ != 0 && cfg_.resend_timeout_ns != 0 &&","if (false && resend_until_ != 0 && cfg_.resend_timeout_ns != 0 &&"),
 ("rule2 mid-session reset","    if (logon && msg_.get_bool(tag::kResetSeqNumFlag) == true) {","    if (logon && pre_logon && msg_.get_bool(tag::kResetSeqNumFlag) == true) {"),
 ("rule3 skew","    if (sending_time && cfg_.max_sending_time_skew_ns != 0 &&","    if (false && sending_time && cfg_.max_sending_time_skew_ns != 0 &&"),
 ("rule4 raw seq","    const std::uint64_t seq = raw_seq_num(raw);","    const std::uint64_t seq = msg_.seq_num();"),
 ("rule5 missing compid","    if (no_sender)\n      return","    if (false)\n      return"),
 ("rule6 possdup 122","    if (!msg_.has(tag::kOrigSendingTime)) {\n      send_reject","    if (false) {\n      send_reject"),
 ("rule8 reset seq 0","    if (type == msg_type::kSequenceReset && msg_.get_bool(tag::kGapFillFlag) != true) {\n      if (!v.ok()) {","    if (seq == 0) { logout_and_drop(\"x\"); return; }\n    if (type == msg_type::kSequenceReset && msg_.get_bool(tag::kGapFillFlag) != true) {\n      if (!v.ok()) {"),
 ("rule9 gap fill 122","        .add_timestamp(tag::kOrigSendingTime, now)  // Vol. 2: on everything a resend sends\n",""),
 ("rule1/7/10 no dictionary","  const Dictionary* dictionary = &Dictionary::fix44();","  const Dictionary* dictionary = nullptr;"),
 ("business path","    if constexpr (HandlesInvalidAppMessage<Handler>) {","    if constexpr (false) {"),
]
only=sys.argv[1:]
work=tempfile.mkdtemp(prefix='fix-mutants-')
subprocess.run(['clang++','-std=c++20','-O1','-c',os.path.join(root,'tests/main.cpp'),'-o',work+'/main.o'],check=True)
bad=0
for name,old,new in muts:
    if only and not any(o in name for o in only): continue
    if base.count(old)!=1:
        print(f"{name}: SNIPPET NOT FOUND ({base.count(old)})"); bad=1; continue
    d=work+'/inc'
    if os.path.exists(d): shutil.rmtree(d)
    shutil.copytree(os.path.join(root,'include'),d)
    open(d+'/hft/fix/session.hpp','w').write(base.replace(old,new))
    r=subprocess.run(['clang++','-std=c++20','-O1','-w','-I'+d,'-I'+os.path.join(root,'tests'),os.path.join(root,'tests/fix/session_test.cpp'),work+'/main.o','-o',work+'/t'],capture_output=True,text=True)
    if r.returncode: print(f"{name}: COMPILE FAIL {r.stderr[:300]}"); bad=1; continue
    r=subprocess.run([work+'/t'],capture_output=True,text=True)
    # names of failing test cases: Catch prints them before the location line
    lines=r.stdout.split('\n'); names=set()
    for i,l in enumerate(lines):
        if l.startswith('-------') and i+1<len(lines) and lines[i+1] and not lines[i+1].startswith('-'):
            names.add(lines[i+1].strip())
    names={n for n in names if not n.startswith('/')}
    if r.returncode == 0: bad=1
    print(f"{name}: {'KILLED by' if r.returncode else 'SURVIVED'} {sorted(names)}")
shutil.rmtree(work)
sys.exit(bad)
