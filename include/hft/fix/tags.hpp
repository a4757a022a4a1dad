// hft/fix/tags.hpp: the FIX 4.4 tag numbers, MsgType values and enumerations the hft codec,
// session and the mini-OMS acceptor use.
//
// What: `fix::tag::kMsgSeqNum` (= 34) and friends, `fix::msg_type::kLogon` (= "A"), the
//   SessionRejectReason(373) codes, and is_header_tag(), the standard-header membership test
//   the parser uses to check field order. Only what hft reads or writes is listed; any other
//   tag still parses (the codec is not limited to these).
// When to use: with hft/fix/message.hpp and hft/fix/builder.hpp, instead of bare numbers.
// Thread-safety: constants and pure functions; any thread.
#pragma once

#include <cstdint>
#include <string_view>

namespace hft::fix {

namespace tag {
///@{
/// The tag number of the FIX 4.4 field the name spells after the `k`: kMsgSeqNum is
/// MsgSeqNum(34). Compare with Field::tag, or pass to Message::get() and MessageBuilder::add().
inline constexpr std::uint32_t kAccount = 1;
inline constexpr std::uint32_t kAvgPx = 6;
inline constexpr std::uint32_t kBeginSeqNo = 7;
inline constexpr std::uint32_t kBeginString = 8;
inline constexpr std::uint32_t kBodyLength = 9;
inline constexpr std::uint32_t kCheckSum = 10;
inline constexpr std::uint32_t kClOrdID = 11;
inline constexpr std::uint32_t kCumQty = 14;
inline constexpr std::uint32_t kEndSeqNo = 16;
inline constexpr std::uint32_t kExecID = 17;
inline constexpr std::uint32_t kMsgSeqNum = 34;
inline constexpr std::uint32_t kMsgType = 35;
inline constexpr std::uint32_t kNewSeqNo = 36;
inline constexpr std::uint32_t kOrderID = 37;
inline constexpr std::uint32_t kOrderQty = 38;
inline constexpr std::uint32_t kOrdStatus = 39;
inline constexpr std::uint32_t kOrdType = 40;
inline constexpr std::uint32_t kOrigClOrdID = 41;
inline constexpr std::uint32_t kPossDupFlag = 43;
inline constexpr std::uint32_t kPrice = 44;
inline constexpr std::uint32_t kRefSeqNum = 45;
inline constexpr std::uint32_t kSenderCompID = 49;
inline constexpr std::uint32_t kSendingTime = 52;
inline constexpr std::uint32_t kSide = 54;
inline constexpr std::uint32_t kSymbol = 55;
inline constexpr std::uint32_t kTargetCompID = 56;
inline constexpr std::uint32_t kText = 58;
inline constexpr std::uint32_t kTimeInForce = 59;
inline constexpr std::uint32_t kTransactTime = 60;
inline constexpr std::uint32_t kLastPx = 31;
inline constexpr std::uint32_t kLastQty = 32;
inline constexpr std::uint32_t kPossResend = 97;
inline constexpr std::uint32_t kEncryptMethod = 98;
inline constexpr std::uint32_t kCxlRejReason = 102;
inline constexpr std::uint32_t kOrdRejReason = 103;
inline constexpr std::uint32_t kHeartBtInt = 108;
inline constexpr std::uint32_t kTestReqID = 112;
inline constexpr std::uint32_t kGapFillFlag = 123;
inline constexpr std::uint32_t kOrigSendingTime = 122;
inline constexpr std::uint32_t kResetSeqNumFlag = 141;
inline constexpr std::uint32_t kExecType = 150;
inline constexpr std::uint32_t kLeavesQty = 151;
inline constexpr std::uint32_t kRefTagID = 371;
inline constexpr std::uint32_t kRefMsgType = 372;
inline constexpr std::uint32_t kSessionRejectReason = 373;
inline constexpr std::uint32_t kBusinessRejectRefID = 379;
inline constexpr std::uint32_t kBusinessRejectReason = 380;
inline constexpr std::uint32_t kCxlRejResponseTo = 434;
///@}
}  // namespace tag

namespace msg_type {
///@{
/// The MsgType(35) value of the FIX 4.4 message the name spells after the `k`: kLogon is "A".
inline constexpr std::string_view kHeartbeat = "0";
inline constexpr std::string_view kTestRequest = "1";
inline constexpr std::string_view kResendRequest = "2";
inline constexpr std::string_view kReject = "3";
inline constexpr std::string_view kSequenceReset = "4";
inline constexpr std::string_view kLogout = "5";
inline constexpr std::string_view kExecutionReport = "8";
inline constexpr std::string_view kOrderCancelReject = "9";
inline constexpr std::string_view kLogon = "A";
inline constexpr std::string_view kNewOrderSingle = "D";
inline constexpr std::string_view kOrderCancelRequest = "F";
inline constexpr std::string_view kBusinessMessageReject = "j";
///@}
}  // namespace msg_type

/// True for the session (admin) message types of FIX 4.4: Heartbeat, TestRequest,
/// ResendRequest, Reject, SequenceReset, Logout, Logon.
[[nodiscard]] constexpr bool is_admin_msg_type(std::string_view t) noexcept {
  return t.size() == 1 && ((t[0] >= '0' && t[0] <= '5') || t[0] == 'A');
}

/// SessionRejectReason(373) values of FIX 4.4 that the codec and session produce.
enum class SessionRejectReason : std::uint8_t {
  InvalidTagNumber = 0,
  RequiredTagMissing = 1,
  TagNotDefinedForMessageType = 2,
  UndefinedTag = 3,
  TagSpecifiedWithoutValue = 4,
  ValueIncorrect = 5,
  IncorrectDataFormat = 6,
  CompIdProblem = 9,
  SendingTimeAccuracyProblem = 10,
  InvalidMsgType = 11,
  TagAppearsMoreThanOnce = 13,
  TagSpecifiedOutOfRequiredOrder = 14,
  RepeatingGroupFieldsOutOfOrder = 15,
  IncorrectNumInGroupCount = 16,
  Other = 99,
};

/// True for the tags of the standard header: the set QuickFIX's Message::isHeaderField uses
/// without a data dictionary, so both parsers judge field order alike. The parser requires
/// every one of them to come before the first body field.
[[nodiscard]] constexpr bool is_header_tag(std::uint32_t t) noexcept {
  switch (t) {
    case 8: case 9: case 35: case 49: case 56: case 115: case 128: case 90: case 34: case 50:
    case 142: case 57: case 143: case 116: case 144: case 129: case 145: case 43: case 97:
    case 52: case 122: case 212: case 213: case 347: case 369: case 370: case 627: case 1128:
    case 1129:
      return true;
    default:
      return false;
  }
}

/// True for the standard trailer: SignatureLength(93), Signature(89), CheckSum(10). No body
/// field may follow one of them.
[[nodiscard]] constexpr bool is_trailer_tag(std::uint32_t t) noexcept { return t == 10 || t == 89 || t == 93; }

}  // namespace hft::fix
