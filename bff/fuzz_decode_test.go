package bff_test

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"context"
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/textproto"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"connectrpc.com/connect"
	"connectrpc.com/grpcreflect"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/reflect/protoregistry"
	"google.golang.org/protobuf/types/descriptorpb"

	"github.com/treue/treue/bff"
)

// FuzzDecode posts arbitrary bodies to every procedure of every service the
// server serves, with its audience's credentials, in a fuzzed protocol
// (Connect unary POST or GET, Connect streaming, gRPC, gRPC-Web), codec
// (proto, JSON) and compression (none, gzip), enveloped or not as the
// protocol wants, or raw. Whatever the input, the answer must be a
// well-formed error of the protocol or a success that decodes as the
// procedure's response: never a panic, never internal, unknown or data_loss.
func FuzzDecode(f *testing.F) {
	e := newEnv(f)
	targets := decodeTargets(f, e)
	for i, tg := range targets {
		for _, s := range decodeSeeds(f, tg) {
			f.Add(uint16(i), s.mode, s.body)
		}
	}
	f.Fuzz(func(t *testing.T, method uint16, mode uint8, body []byte) {
		tg := targets[int(method)%len(targets)]
		if err := exchange(e, tg, modeOf(mode), body); err != nil {
			t.Fatalf("%s, %s, body %q: %v", tg.procedure, modeOf(mode), body, err)
		}
	})
}

// TestDecodeEveryProcedureRejectsGarbage sends FuzzDecode's seeds and some
// garbage to every procedure, so that a plain go test covers every
// procedure's decoding; it fails when a procedure of the descriptors is not
// served or not covered.
func TestDecodeEveryProcedureRejectsGarbage(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	targets := decodeTargets(t, e)
	garbage := [][]byte{
		{0xff, 0xff, 0xff},
		[]byte("not json {"),
		{0x0a, 0xff, 0xff, 0xff, 0xff, 0x0f}, // field 1, length beyond the end
		{0x1f, 0x8b, 0x08, 0x00, 0x00},       // a gzip header, cut short
		{0x00, 0x00, 0x00, 0x00, 0x0a},       // an envelope promising 10 bytes
		{0x02, 0x00, 0x00, 0x00, 0x00},       // an end-of-stream envelope
		{0x00, 0x00},                         // half an envelope prefix
		bytes.Repeat([]byte{0x0a, 0x80, 0x80, 0x80, 0x80, 0x08}, 50),
	}
	modes := []wireMode{
		{},
		{json: true},
		{gzip: true},
		{gzip: true, raw: true},
		{raw: true},
		{get: true},
		{get: true, raw: true},
		{swapped: true},
		{protocol: protoGRPC},
		{protocol: protoGRPC, raw: true},
		{protocol: protoGRPCWeb, json: true},
		{protocol: protoGRPCWeb, raw: true, gzip: true},
	}
	covered := map[string]bool{}
	for _, tg := range targets {
		ok := true
		for _, s := range decodeSeeds(t, tg) {
			if err := exchange(e, tg, modeOf(s.mode), s.body); err != nil {
				t.Errorf("%s, %s, seed %q: %v", tg.procedure, modeOf(s.mode), s.body, err)
				ok = false
			}
		}
		for _, body := range garbage {
			for _, m := range modes {
				if err := exchange(e, tg, m, body); err != nil {
					t.Errorf("%s, %s, body %q: %v", tg.procedure, m, body, err)
					ok = false
				}
			}
		}
		covered[tg.procedure] = ok
	}
	want := descriptorProcedures()
	n := 0
	for _, p := range want {
		switch ok, served := covered[p]; {
		case !served:
			t.Errorf("procedure %s is in the descriptors but not served (missing from serviceNames?)", p)
		case ok:
			n++
		}
	}
	t.Logf("procedures covered: %d of %d", n, len(want))
	if n != len(want) {
		t.Errorf("procedures covered: %d of %d", n, len(want))
	}
}

// descriptorProcedures returns every procedure of every service of
// treue.v1 in the generated descriptors.
func descriptorProcedures() []string {
	var ps []string
	protoregistry.GlobalFiles.RangeFilesByPackage("treue.v1", func(fd protoreflect.FileDescriptor) bool {
		for i := range fd.Services().Len() {
			s := fd.Services().Get(i)
			for j := range s.Methods().Len() {
				ps = append(ps, "/"+string(s.FullName())+"/"+string(s.Methods().Get(j).Name()))
			}
		}
		return true
	})
	slices.Sort(ps)
	return ps
}

// decodeTarget is one procedure to post to.
type decodeTarget struct {
	procedure string
	input     protoreflect.MessageType
	output    protoreflect.MessageType
	// auth is the Authorization header of its audience.
	auth string
	// stream is true for a server stream.
	stream bool
	// get is true when Connect serves it by GET too (no side effects).
	get bool
}

// decodeTargets returns every procedure of every service the server of e
// describes by reflection (the handler's serviceNames), sorted, with the
// credentials of its audience: a procedure for customers gets an enrolled
// member of its own.
func decodeTargets(t testing.TB, e *env) []decodeTarget {
	t.Helper()
	stream := grpcreflect.NewClient(e.client, e.server.URL).NewStream(context.Background())
	names, err := stream.ListServices()
	mustOK(t, err)
	_, _ = stream.Close()
	var targets []decodeTarget
	for _, name := range names {
		d, err := protoregistry.GlobalFiles.FindDescriptorByName(name)
		mustOK(t, err)
		sd, ok := d.(protoreflect.ServiceDescriptor)
		if !ok {
			t.Fatalf("%s is a %T, not a service", name, d)
		}
		for i := range sd.Methods().Len() {
			md := sd.Methods().Get(i)
			if md.IsStreamingClient() {
				t.Fatalf("%s: client streams are not fuzzed yet", md.FullName())
			}
			procedure := "/" + string(sd.FullName()) + "/" + string(md.Name())
			in, err := protoregistry.GlobalTypes.FindMessageByName(md.Input().FullName())
			mustOK(t, err)
			out, err := protoregistry.GlobalTypes.FindMessageByName(md.Output().FullName())
			mustOK(t, err)
			opts, _ := md.Options().(*descriptorpb.MethodOptions)
			tg := decodeTarget{
				procedure: procedure, input: in, output: out,
				stream: md.IsStreamingServer(),
				get:    !md.IsStreamingServer() && opts.GetIdempotencyLevel() == descriptorpb.MethodOptions_NO_SIDE_EFFECTS,
			}
			switch bff.AudienceName(procedure) {
			case "customer":
				// A member of its own, so that DeleteMyAccount erases no
				// other procedure's member.
				uid := "fuzz-" + string(sd.Name()) + "-" + string(md.Name())
				enrol(t, e.customer(uid, protocols[0]))
				tg.auth = "Bearer dev:" + uid
			case "till":
				tg.auth = "Bearer " + tillKeyA
			case "operator":
				tg.auth = "Bearer " + operatorKeyA
			}
			targets = append(targets, tg)
		}
	}
	slices.SortFunc(targets, func(a, b decodeTarget) int { return strings.Compare(a.procedure, b.procedure) })
	if len(targets) == 0 {
		t.Fatal("the server describes no procedures")
	}
	return targets
}

// Wire protocols of a wireMode.
const (
	protoConnect = iota
	protoGRPC
	protoGRPCWeb
)

// wireMode is how a body is sent.
type wireMode struct {
	protocol int
	json     bool
	gzip     bool
	// raw sends the body as it is: not compressed, not enveloped, not
	// base64-encoded (with the headers of the mode).
	raw bool
	// get uses Connect's GET for procedures without side effects.
	get bool
	// swapped uses Connect's content type of the other kind of call:
	// streaming for unary procedures and unary for streams.
	swapped bool
}

// modeOf returns the wireMode a fuzzed byte stands for.
func modeOf(b uint8) wireMode {
	m := wireMode{json: b&4 != 0, gzip: b&8 != 0, raw: b&16 != 0, get: b&32 != 0, swapped: b&64 != 0}
	switch b & 3 {
	case 1:
		m.protocol = protoGRPC
	case 2:
		m.protocol = protoGRPCWeb
	}
	return m
}

// byteOf returns the fuzzed byte of m.
func (m wireMode) byteOf() uint8 {
	b := uint8(m.protocol)
	for bit, set := range []bool{m.json, m.gzip, m.raw, m.get, m.swapped} {
		if set {
			b |= 4 << bit
		}
	}
	return b
}

func (m wireMode) String() string {
	s := [...]string{"connect", "grpc", "grpc-web"}[m.protocol]
	for _, f := range []struct {
		set  bool
		name string
	}{{m.json, "json"}, {m.gzip, "gzip"}, {m.raw, "raw"}, {m.get, "get"}, {m.swapped, "swapped"}} {
		if f.set {
			s += "+" + f.name
		}
	}
	return s
}

type decodeSeed struct {
	mode uint8
	body []byte
}

// decodeSeeds returns valid requests for tg: the zero message and a message
// with every field set, in several modes.
func decodeSeeds(t testing.TB, tg decodeTarget) []decodeSeed {
	t.Helper()
	full := tg.input.New()
	fill(full, 3)
	var seeds []decodeSeed
	for _, m := range []protoreflect.Message{tg.input.New(), full} {
		pb, err := proto.Marshal(m.Interface())
		mustOK(t, err)
		seeds = append(seeds,
			decodeSeed{wireMode{}.byteOf(), pb},
			decodeSeed{wireMode{gzip: true}.byteOf(), pb},
			decodeSeed{wireMode{protocol: protoGRPC}.byteOf(), pb},
			decodeSeed{wireMode{protocol: protoGRPCWeb, gzip: true}.byteOf(), pb},
		)
		if tg.get {
			seeds = append(seeds, decodeSeed{wireMode{get: true}.byteOf(), pb})
		}
		// Filled well-known types may have no JSON form; the binary seeds
		// still cover the message.
		if js, err := protojson.Marshal(m.Interface()); err == nil {
			seeds = append(seeds,
				decodeSeed{wireMode{json: true}.byteOf(), js},
				decodeSeed{wireMode{protocol: protoGRPC, json: true, gzip: true}.byteOf(), js},
			)
		}
	}
	return seeds
}

// fill sets every field of m, down to depth levels of messages.
func fill(m protoreflect.Message, depth int) {
	fields := m.Descriptor().Fields()
	for i := range fields.Len() {
		fd := fields.Get(i)
		if oo := fd.ContainingOneof(); oo != nil && !oo.IsSynthetic() && m.WhichOneof(oo) != nil {
			continue
		}
		switch {
		case fd.IsList():
			l := m.Mutable(fd).List()
			if fd.Message() == nil {
				l.Append(scalarOf(fd))
			} else if depth > 0 {
				v := l.NewElement()
				fill(v.Message(), depth-1)
				l.Append(v)
			}
		case fd.IsMap():
			mp := m.Mutable(fd).Map()
			k := scalarOf(fd.MapKey()).MapKey()
			if fd.MapValue().Message() == nil {
				mp.Set(k, scalarOf(fd.MapValue()))
			} else if depth > 0 {
				v := mp.NewValue()
				fill(v.Message(), depth-1)
				mp.Set(k, v)
			}
		case fd.Message() != nil:
			if depth > 0 {
				fill(m.Mutable(fd).Message(), depth-1)
			}
		default:
			m.Set(fd, scalarOf(fd))
		}
	}
}

// scalarOf returns a plausible non-zero value of a scalar field.
func scalarOf(fd protoreflect.FieldDescriptor) protoreflect.Value {
	switch fd.Kind() {
	case protoreflect.BoolKind:
		return protoreflect.ValueOfBool(true)
	case protoreflect.EnumKind:
		vs := fd.Enum().Values()
		return protoreflect.ValueOfEnum(vs.Get(vs.Len() - 1).Number())
	case protoreflect.Int32Kind, protoreflect.Sint32Kind, protoreflect.Sfixed32Kind:
		return protoreflect.ValueOfInt32(1)
	case protoreflect.Int64Kind, protoreflect.Sint64Kind, protoreflect.Sfixed64Kind:
		return protoreflect.ValueOfInt64(1)
	case protoreflect.Uint32Kind, protoreflect.Fixed32Kind:
		return protoreflect.ValueOfUint32(1)
	case protoreflect.Uint64Kind, protoreflect.Fixed64Kind:
		return protoreflect.ValueOfUint64(1)
	case protoreflect.FloatKind:
		return protoreflect.ValueOfFloat32(1.5)
	case protoreflect.DoubleKind:
		return protoreflect.ValueOfFloat64(1.5)
	case protoreflect.StringKind:
		return protoreflect.ValueOfString("fuzz")
	case protoreflect.BytesKind:
		return protoreflect.ValueOfBytes([]byte("fuzz"))
	}
	panic(fmt.Sprintf("no value for %v", fd.Kind()))
}

// maxAnswer bounds a message of an answer the fuzzer reads.
const maxAnswer = 8 << 20

// exchange sends body to tg in mode m and checks the answer: nil when it is
// a well-formed success or error of a harmless code.
func exchange(e *env, tg decodeTarget, m wireMode, body []byte) error {
	// Generous: only a hang should reach it.
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	req, err := newDecodeRequest(ctx, e.server.URL, tg, m, body)
	if err != nil {
		return err
	}
	res, err := e.client.Do(req)
	if err != nil {
		return fmt.Errorf("no answer (a panic?): %w", err)
	}
	defer res.Body.Close()
	var a answer
	switch {
	case m.protocol != protoConnect:
		a, err = readGRPCAnswer(res, tg, m.protocol == protoGRPCWeb, cancel)
	case tg.stream != m.swapped && !(m.get && tg.get):
		a, err = readConnectStreamAnswer(res, tg, m, cancel)
	default:
		a, err = readConnectUnaryAnswer(res, tg, m)
	}
	if err != nil {
		return err
	}
	switch a.code {
	case connect.CodeUnknown, connect.CodeInternal, connect.CodeDataLoss:
		// connect-go itself answers internal to a broken envelope (cut
		// short, bad flags, an end-of-stream message from the client); only
		// raw bodies make them.
		if m.raw && a.code == connect.CodeInternal && (strings.HasPrefix(a.message, "protocol error: ") || strings.HasPrefix(a.message, "unmarshal end stream message: ")) {
			return nil
		}
		return fmt.Errorf("answered %v: %s", a.code, a.message)
	}
	return nil
}

// answer is what a call came to: code 0 is a success; httpOnly an HTTP
// refusal before any protocol (415 for a content type of the wrong kind).
type answer struct {
	code     connect.Code
	message  string
	httpOnly bool
}

// newDecodeRequest returns the HTTP request that sends body to tg in mode m.
func newDecodeRequest(ctx context.Context, base string, tg decodeTarget, m wireMode, body []byte) (*http.Request, error) {
	codec := "proto"
	if m.json {
		codec = "json"
	}
	payload := body
	if m.gzip && !m.raw {
		payload = gzipped(body)
	}
	h := http.Header{}
	h.Set("Authorization", tg.auth)
	method, u := http.MethodPost, base+tg.procedure
	switch {
	case m.protocol == protoGRPC:
		h.Set("Content-Type", "application/grpc+"+codec)
		h.Set("Te", "trailers")
		if m.gzip {
			h.Set("Grpc-Encoding", "gzip")
		}
		if !m.raw {
			payload = enveloped(payload, m.gzip)
		}
	case m.protocol == protoGRPCWeb:
		h.Set("Content-Type", "application/grpc-web+"+codec)
		if m.gzip {
			h.Set("Grpc-Encoding", "gzip")
		}
		if !m.raw {
			payload = enveloped(payload, m.gzip)
		}
	case m.get && tg.get:
		q := url.Values{"connect": {"v1"}, "encoding": {codec}}
		if m.raw {
			q.Set("message", string(payload))
		} else {
			q.Set("message", base64.RawURLEncoding.EncodeToString(payload))
			q.Set("base64", "1")
		}
		if m.gzip {
			q.Set("compression", "gzip")
		}
		method, u, payload = http.MethodGet, u+"?"+q.Encode(), nil
	case tg.stream != m.swapped:
		h.Set("Content-Type", "application/connect+"+codec)
		h.Set("Connect-Protocol-Version", "1")
		if m.gzip {
			h.Set("Connect-Content-Encoding", "gzip")
		}
		if !m.raw {
			payload = enveloped(payload, m.gzip)
		}
	default:
		h.Set("Content-Type", "application/"+codec)
		h.Set("Connect-Protocol-Version", "1")
		if m.gzip {
			h.Set("Content-Encoding", "gzip")
		}
	}
	var r io.Reader
	if payload != nil {
		r = bytes.NewReader(payload)
	}
	req, err := http.NewRequestWithContext(ctx, method, u, r)
	if err != nil {
		return nil, err
	}
	req.Header = h
	return req, nil
}

// gzipped returns b compressed with gzip.
func gzipped(b []byte) []byte {
	var buf bytes.Buffer
	w, _ := gzip.NewWriterLevel(&buf, gzip.BestSpeed)
	_, _ = w.Write(b)
	_ = w.Close()
	return buf.Bytes()
}

// enveloped returns b in a Connect or gRPC envelope.
func enveloped(b []byte, compressed bool) []byte {
	out := make([]byte, 5, 5+len(b))
	if compressed {
		out[0] = 1
	}
	binary.BigEndian.PutUint32(out[1:], uint32(len(b)))
	return append(out, b...)
}

// connectError is a Connect error as JSON.
type connectError struct {
	Code    *connect.Code `json:"code"`
	Message string        `json:"message"`
}

// parseConnectError returns the answer of a Connect error JSON.
func parseConnectError(b []byte) (answer, error) {
	var ce connectError
	if err := json.Unmarshal(b, &ce); err != nil || ce.Code == nil {
		return answer{}, fmt.Errorf("not a Connect error JSON: %q (%v)", b, err)
	}
	return answer{code: *ce.Code, message: ce.Message}, nil
}

// readConnectUnaryAnswer reads a Connect unary answer: the response message,
// or a Connect error JSON with an HTTP error status.
func readConnectUnaryAnswer(res *http.Response, tg decodeTarget, m wireMode) (answer, error) {
	b, err := io.ReadAll(io.LimitReader(res.Body, maxAnswer))
	if err != nil {
		return answer{}, fmt.Errorf("reading the answer (a panic?): %w", err)
	}
	if res.StatusCode == http.StatusUnsupportedMediaType && m.swapped {
		return answer{httpOnly: true}, nil
	}
	if res.StatusCode != http.StatusOK {
		if !strings.HasPrefix(res.Header.Get("Content-Type"), "application/json") {
			return answer{}, fmt.Errorf("status %d with content type %q: %q", res.StatusCode, res.Header.Get("Content-Type"), b)
		}
		a, err := parseConnectError(b)
		if err == nil && a.code == 0 {
			err = fmt.Errorf("status %d with an error of code 0", res.StatusCode)
		}
		return a, err
	}
	if enc := res.Header.Get("Content-Encoding"); enc != "" && enc != "identity" {
		if b, err = gunzip(b); err != nil {
			return answer{}, fmt.Errorf("response of encoding %q: %w", enc, err)
		}
	}
	return answer{}, decodeOutput(tg, strings.HasSuffix(res.Header.Get("Content-Type"), "json"), b)
}

// readConnectStreamAnswer reads a Connect stream's first envelope: its end
// (with its error, if any) or its first message, after which it stops (a
// WatchCard stream does not end by itself).
func readConnectStreamAnswer(res *http.Response, tg decodeTarget, m wireMode, stop func()) (answer, error) {
	if res.StatusCode == http.StatusUnsupportedMediaType && m.swapped {
		_, _ = io.Copy(io.Discard, res.Body)
		return answer{httpOnly: true}, nil
	}
	if res.StatusCode != http.StatusOK {
		b, _ := io.ReadAll(io.LimitReader(res.Body, maxAnswer))
		return answer{}, fmt.Errorf("stream answered status %d: %q", res.StatusCode, b)
	}
	isJSON := strings.HasSuffix(res.Header.Get("Content-Type"), "json")
	flags, data, err := readEnvelope(res.Body)
	if err != nil {
		return answer{}, fmt.Errorf("reading the stream (a panic?): %w", err)
	}
	if flags&1 != 0 {
		if data, err = gunzip(data); err != nil {
			return answer{}, err
		}
	}
	if flags&2 != 0 {
		var end struct {
			Error json.RawMessage `json:"error"`
		}
		if err := json.Unmarshal(data, &end); err != nil {
			return answer{}, fmt.Errorf("end of stream %q: %w", data, err)
		}
		if len(end.Error) == 0 {
			return answer{}, nil
		}
		return parseConnectError(end.Error)
	}
	if err := decodeOutput(tg, isJSON, data); err != nil {
		return answer{}, err
	}
	stop()
	return answer{}, nil
}

// readGRPCAnswer reads a gRPC or gRPC-Web answer until its status, or its
// first message.
func readGRPCAnswer(res *http.Response, tg decodeTarget, web bool, stop func()) (answer, error) {
	if res.StatusCode != http.StatusOK {
		b, _ := io.ReadAll(io.LimitReader(res.Body, maxAnswer))
		return answer{}, fmt.Errorf("status %d: %q", res.StatusCode, b)
	}
	// A trailers-only answer has its status in the headers.
	if s := res.Header.Get("Grpc-Status"); s != "" {
		_, _ = io.Copy(io.Discard, res.Body)
		return grpcStatus(s, res.Header.Get("Grpc-Message"))
	}
	isJSON := strings.HasSuffix(res.Header.Get("Content-Type"), "json")
	for {
		flags, data, err := readEnvelope(res.Body)
		if err == io.EOF && !web {
			return grpcStatus(res.Trailer.Get("Grpc-Status"), res.Trailer.Get("Grpc-Message"))
		}
		if err != nil {
			return answer{}, fmt.Errorf("reading the answer (a panic?): %w", err)
		}
		if flags&1 != 0 {
			if data, err = gunzip(data); err != nil {
				return answer{}, err
			}
		}
		if flags&0x80 != 0 {
			tr, err := textproto.NewReader(bufio.NewReader(bytes.NewReader(append(data, "\r\n"...)))).ReadMIMEHeader()
			if err != nil && err != io.EOF {
				return answer{}, fmt.Errorf("gRPC-Web trailers %q: %w", data, err)
			}
			return grpcStatus(tr.Get("Grpc-Status"), tr.Get("Grpc-Message"))
		}
		if err := decodeOutput(tg, isJSON, data); err != nil {
			return answer{}, err
		}
		if tg.stream {
			stop()
			return answer{}, nil
		}
	}
}

// grpcStatus returns the answer of a grpc-status and grpc-message.
func grpcStatus(status, message string) (answer, error) {
	n, err := strconv.ParseUint(status, 10, 32)
	if err != nil || n > 16 {
		return answer{}, fmt.Errorf("grpc-status %q", status)
	}
	msg, _ := url.PathUnescape(message)
	return answer{code: connect.Code(n), message: msg}, nil
}

// readEnvelope reads one envelope of an answer.
func readEnvelope(r io.Reader) (flags byte, data []byte, err error) {
	var prefix [5]byte
	if _, err := io.ReadFull(r, prefix[:]); err != nil {
		return 0, nil, err
	}
	n := binary.BigEndian.Uint32(prefix[1:])
	if n > maxAnswer {
		return 0, nil, fmt.Errorf("envelope of %d bytes", n)
	}
	data = make([]byte, n)
	if _, err := io.ReadFull(r, data); err != nil {
		return 0, nil, err
	}
	return prefix[0], data, nil
}

// decodeOutput fails unless b is tg's response message.
func decodeOutput(tg decodeTarget, isJSON bool, b []byte) error {
	m := tg.output.New().Interface()
	var err error
	if isJSON {
		err = protojson.Unmarshal(b, m)
	} else {
		err = proto.Unmarshal(b, m)
	}
	if err != nil {
		return fmt.Errorf("success that is no %s: %w", tg.output.Descriptor().FullName(), err)
	}
	return nil
}

func gunzip(b []byte) ([]byte, error) {
	r, err := gzip.NewReader(bytes.NewReader(b))
	if err != nil {
		return nil, err
	}
	out, err := io.ReadAll(io.LimitReader(r, maxAnswer))
	if err != nil {
		return nil, errors.Join(errors.New("gunzip"), err)
	}
	return out, nil
}
