package s3store

import (
	"context"
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"net/http"

	"github.com/minio/minio-go/v7"

	"catalyst.dev/sdk/plugin"
)

// explain turns an error from the S3 client into one an operator can act
// on at 3 AM: which bucket at which endpoint, what went wrong in words, what
// to check, the server's own message, and the SDK sentinel the host
// branches on. Context errors pass through unchanged.
func (b *backend) explain(err error) error {
	if err == nil || errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return err
	}
	hint, sentinel := classify(err)
	return fmt.Errorf("s3: bucket %q at %s: %s: %w: %w", b.bucket, b.endpoint, hint, err, sentinel)
}

// classify says in words what err means and which sentinel it is.
func classify(err error) (string, error) {
	resp := minio.ToErrorResponse(err)
	switch resp.Code {
	case minio.NoSuchKey:
		return "no such object", plugin.ErrNotFound
	case minio.NoSuchBucket:
		return "the bucket does not exist (check bucket, region and endpoint)", plugin.ErrInvalidArgument
	case "InvalidAccessKeyId":
		return "the access key is not known to the server (check access_key)", plugin.ErrPermissionDenied
	case "SignatureDoesNotMatch":
		return "request signature rejected (check secret_key)", plugin.ErrPermissionDenied
	case "ExpiredToken", "InvalidToken", "TokenRefreshRequired":
		return "the session token is expired or invalid (check session_token)", plugin.ErrPermissionDenied
	case minio.AccessDenied, "AllAccessDisabled", "AccountProblem":
		return "access denied (check access_key/secret_key and the bucket policy)", plugin.ErrPermissionDenied
	case "AuthorizationHeaderMalformed", "PermanentRedirect", "IllegalLocationConstraintException":
		return "the bucket is in another region (check region)", plugin.ErrInvalidArgument
	case "RequestTimeTooSkewed":
		return "this node's clock is too far off the server's (check NTP)", plugin.ErrUnavailable
	case "NoSuchUpload":
		return "the multipart upload no longer exists (aborted by a lifecycle rule or another process?)", plugin.ErrUnavailable
	}
	switch {
	case resp.StatusCode == http.StatusForbidden:
		return "access denied (check access_key/secret_key and the bucket policy)", plugin.ErrPermissionDenied
	case resp.StatusCode == http.StatusNotFound:
		return "not found", plugin.ErrNotFound
	case resp.StatusCode >= 500 || resp.StatusCode == http.StatusTooManyRequests:
		return fmt.Sprintf("the server failed (HTTP %d); try again later", resp.StatusCode), plugin.ErrUnavailable
	case resp.StatusCode >= 400:
		return fmt.Sprintf("the server refused the request (HTTP %d %s)", resp.StatusCode, resp.Code), plugin.ErrInvalidArgument
	}
	var unknownCA x509.UnknownAuthorityError
	var hostErr x509.HostnameError
	var certErr x509.CertificateInvalidError
	switch {
	case errors.As(err, &unknownCA):
		return "the server's TLS certificate is not signed by a trusted CA (set ca_file)", plugin.ErrUnavailable
	case errors.As(err, &hostErr):
		return "the server's TLS certificate does not match the endpoint's host name", plugin.ErrUnavailable
	case errors.As(err, &certErr):
		return "the server's TLS certificate is invalid (expired?)", plugin.ErrUnavailable
	}
	var netErr net.Error
	if errors.As(err, &netErr) {
		return "cannot reach the endpoint (is it up, and is endpoint right?)", plugin.ErrUnavailable
	}
	return "request failed", plugin.ErrUnavailable
}

// retryable reports whether sending the same request again may succeed:
// network failures, server errors, throttling, and a body the server saw
// damaged (BadDigest: the Content-MD5 check failed).
func retryable(err error) bool {
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return false
	}
	resp := minio.ToErrorResponse(err)
	switch resp.Code {
	case "BadDigest", "IncompleteBody", "RequestTimeout", "SlowDown", "InternalError",
		"ServiceUnavailable", "XAmzContentSHA256Mismatch":
		return true
	}
	if resp.StatusCode >= 500 || resp.StatusCode == http.StatusTooManyRequests {
		return true
	}
	var unknownCA x509.UnknownAuthorityError
	var hostErr x509.HostnameError
	var certErr x509.CertificateInvalidError
	if errors.As(err, &unknownCA) || errors.As(err, &hostErr) || errors.As(err, &certErr) {
		return false // a certificate does not fix itself in seconds
	}
	// No HTTP status at all: the request never got an answer.
	return resp.StatusCode == 0 && resp.Code == ""
}
