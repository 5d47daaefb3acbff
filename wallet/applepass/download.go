package applepass

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"net/url"
	"strconv"
	"time"
)

// DownloadLinkTTL is how long a download link works.
const DownloadLinkTTL = 10 * time.Minute

// DownloadURL returns a link that serves rec's pass, as it is when the link
// is followed, to anyone holding it until expires: what the app's "Add to
// Apple Wallet" sheet opens. The link is signed with the pass's token, so it
// names one pass and cannot be altered.
func (s *Service) DownloadURL(rec Record) (link string, expires time.Time) {
	expires = s.cfg.Now().Add(DownloadLinkTTL).Truncate(time.Second)
	exp := strconv.FormatInt(expires.Unix(), 10)
	q := url.Values{"expires": {exp}, "signature": {downloadSignature(rec, exp)}}
	return s.cfg.WebServiceURL + "/download/" + url.PathEscape(rec.Serial) + ".pkpass?" + q.Encode(), expires
}

// downloadSignature returns the signature of a download link of rec
// expiring at exp (Unix seconds, as in the link).
func downloadSignature(rec Record, exp string) string {
	m := hmac.New(sha256.New, []byte(rec.AuthToken))
	m.Write([]byte("treue applepass download\x00" + rec.PassTypeID + "\x00" + rec.Serial + "\x00" + exp))
	return hex.EncodeToString(m.Sum(nil))
}

// validDownload reports whether sig signs a download link of rec that
// expires at exp, later than now.
func validDownload(rec Record, exp, sig string, now time.Time) bool {
	e, err := strconv.ParseInt(exp, 10, 64)
	if err != nil || now.Unix() >= e || e > now.Add(DownloadLinkTTL+time.Minute).Unix() {
		return false
	}
	want := downloadSignature(rec, exp)
	return hmac.Equal([]byte(want), []byte(sig))
}
