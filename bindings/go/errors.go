package zkc

import "fmt"

// Code is a zkc status code (the C library's ZKC_E* values; ZooKeeper's
// own codes keep their numbers).
type Code int

// The codes a caller branches on. Every *Error carries one; compare with
// errors.Is(err, zkc.ErrNoNode) rather than with the numbers.
const (
	CodeOK               Code = 0
	CodeSystem           Code = -1
	CodeConnectionLoss   Code = -4
	CodeOperationTimeout Code = -7
	CodeBadArguments     Code = -8
	CodeInvalidState     Code = -9
	CodeNoNode           Code = -101
	CodeNoAuth           Code = -102
	CodeBadVersion       Code = -103
	CodeNoChildrenForEph Code = -108
	CodeNodeExists       Code = -110
	CodeNotEmpty         Code = -111
	CodeSessionExpired   Code = -112
	CodeInvalidACL       Code = -114
	CodeAuthFailed       Code = -115
	CodeUnknownOutcome   Code = -1001
	CodeTimeout          Code = -1002
	CodeNoMemory         Code = -1003
	CodeURL              Code = -1004
	CodeClosed           Code = -1005
	CodeDeadlock         Code = -1006
	CodeTLS              Code = -1007
	CodeTooLarge         Code = -1008
	CodeOS               Code = -1009
	CodeCanceled         Code = -1010
	CodeLost             Code = -1011
	CodeNotSupported     Code = -1012
	CodeResolve          Code = -1013
	CodeAgain            Code = -1014
)

// Sentinel errors, one per code worth branching on. errors.Is matches any
// *Error with the same Code.
var (
	ErrConnectionLoss = &Error{Code: CodeConnectionLoss}
	ErrBadArguments   = &Error{Code: CodeBadArguments}
	ErrInvalidState   = &Error{Code: CodeInvalidState}
	ErrNoNode         = &Error{Code: CodeNoNode}
	ErrNoAuth         = &Error{Code: CodeNoAuth}
	ErrBadVersion     = &Error{Code: CodeBadVersion}
	ErrNodeExists     = &Error{Code: CodeNodeExists}
	ErrNotEmpty       = &Error{Code: CodeNotEmpty}
	ErrSessionExpired = &Error{Code: CodeSessionExpired}
	ErrInvalidACL     = &Error{Code: CodeInvalidACL}
	ErrAuthFailed     = &Error{Code: CodeAuthFailed}
	// ErrUnknownOutcome: a write whose reply was lost (or whose call was
	// canceled while the reply was outstanding); it may have been applied.
	ErrUnknownOutcome = &Error{Code: CodeUnknownOutcome}
	ErrTimeout        = &Error{Code: CodeTimeout}
	ErrURL            = &Error{Code: CodeURL}
	ErrClosed         = &Error{Code: CodeClosed}
	ErrTLS            = &Error{Code: CodeTLS}
	ErrTooLarge       = &Error{Code: CodeTooLarge}
	// ErrCanceled: the call was canceled; the error also matches the
	// context's error (context.Canceled or context.DeadlineExceeded).
	ErrCanceled     = &Error{Code: CodeCanceled}
	ErrLost         = &Error{Code: CodeLost}
	ErrNotSupported = &Error{Code: CodeNotSupported}
	// ErrWouldBlock: a non-blocking attempt found nothing (a try-lock on a
	// held lock, a take from an empty queue).
	ErrWouldBlock = &Error{Code: CodeAgain}
)

// Error is what every failing call of this package returns: the code, the
// operation and path, and the C library's message (zkc_error_last, copied
// on the thread that made the call).
type Error struct {
	Code    Code
	Op      string // "get", "lock acquire", ...
	Path    string
	Message string
	cause   error // the context's error, for canceled calls
}

func (e *Error) Error() string {
	var s string
	switch {
	case e.Op != "" && e.Path != "":
		s = fmt.Sprintf("zkc: %s %s: ", e.Op, e.Path)
	case e.Op != "":
		s = fmt.Sprintf("zkc: %s: ", e.Op)
	default:
		s = "zkc: "
	}
	if e.Message != "" {
		return s + e.Message + " (" + codeName(e.Code) + ")"
	}
	return s + codeText(e.Code) + " (" + codeName(e.Code) + ")"
}

// Is reports whether target is an *Error with the same code, so
// errors.Is(err, zkc.ErrNoNode) works whatever the path or message.
func (e *Error) Is(target error) bool {
	t, ok := target.(*Error)
	return ok && t.Code == e.Code
}

// Unwrap gives the context's error of a canceled call (nil otherwise).
func (e *Error) Unwrap() error { return e.cause }

func codeName(c Code) string {
	if n, ok := codeNames[c]; ok {
		return n
	}
	return fmt.Sprintf("code %d", int(c))
}

func codeText(c Code) string {
	if t, ok := codeTexts[c]; ok {
		return t
	}
	return "error"
}

var codeNames = map[Code]string{
	CodeSystem: "ZKC_ESYSTEM", CodeConnectionLoss: "ZKC_ECONNECTIONLOSS",
	CodeOperationTimeout: "ZKC_EOPERATIONTIMEOUT", CodeBadArguments: "ZKC_EBADARGUMENTS",
	CodeInvalidState: "ZKC_EINVALIDSTATE", CodeNoNode: "ZKC_ENONODE", CodeNoAuth: "ZKC_ENOAUTH",
	CodeBadVersion: "ZKC_EBADVERSION", CodeNoChildrenForEph: "ZKC_ENOCHILDRENFOREPHEMERALS",
	CodeNodeExists: "ZKC_ENODEEXISTS", CodeNotEmpty: "ZKC_ENOTEMPTY",
	CodeSessionExpired: "ZKC_ESESSIONEXPIRED", CodeInvalidACL: "ZKC_EINVALIDACL",
	CodeAuthFailed: "ZKC_EAUTHFAILED", CodeUnknownOutcome: "ZKC_EUNKNOWN",
	CodeTimeout: "ZKC_ETIMEDOUT", CodeNoMemory: "ZKC_ENOMEM", CodeURL: "ZKC_EURL",
	CodeClosed: "ZKC_ECLOSED", CodeDeadlock: "ZKC_EDEADLK", CodeTLS: "ZKC_ETLS",
	CodeTooLarge: "ZKC_ETOOLARGE", CodeOS: "ZKC_EOS", CodeCanceled: "ZKC_ECANCELED",
	CodeLost: "ZKC_ELOST", CodeNotSupported: "ZKC_ENOTSUP", CodeResolve: "ZKC_ERESOLVE",
	CodeAgain: "ZKC_EAGAIN",
}

var codeTexts = map[Code]string{
	CodeNoNode: "no such node", CodeNodeExists: "node already exists",
	CodeBadVersion: "version conflict", CodeClosed: "client closed",
	CodeCanceled: "canceled", CodeUnknownOutcome: "outcome unknown",
	CodeTimeout: "deadline passed", CodeAgain: "nothing available now",
	CodeBadArguments: "invalid argument", CodeInvalidState: "invalid state",
}

// newError builds the *Error of a failed C call. ctxErr is the context's
// error when the call was canceled through it.
func newError(code int, op, path, msg string, ctxErr error) error {
	return &Error{Code: Code(code), Op: op, Path: path, Message: msg, cause: ctxErr}
}

func closedError(op, path string) error {
	return &Error{Code: CodeClosed, Op: op, Path: path, Message: "handle closed"}
}

// ctxError is the error of a call that did not start because its context
// was already done.
func ctxError(op, path string, err error) error {
	return &Error{Code: CodeCanceled, Op: op, Path: path, Message: err.Error(), cause: err}
}
