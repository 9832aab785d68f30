package blob

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"path"
	"strconv"
	"strings"
	"time"

	"github.com/minio/minio-go/v7"
	"github.com/minio/minio-go/v7/pkg/credentials"

	"stillmotion/internal/fault"
)

// S3Config says where an S3 store keeps its files. ParseS3URL reads it
// from a storage URL.
type S3Config struct {
	// Endpoint is the object store's address: a URL ("http://host:port",
	// whose scheme decides TLS) or a host[:port] spoken to over HTTPS.
	// Defaults to s3.amazonaws.com.
	Endpoint string
	// Bucket holds the files; it must exist.
	Bucket string
	// Prefix is prepended to every key ("videos/"). Defaults to none.
	Prefix string
	// Region is the bucket's region. Defaults to us-east-1.
	Region string
	// PathStyle addresses the bucket in the path rather than the host
	// name. Defaults to what the endpoint supports (path style for
	// anything but the big clouds).
	PathStyle bool
	// AccessKey, SecretKey and SessionToken are the credentials. Default
	// to AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY and AWS_SESSION_TOKEN,
	// then ~/.aws/credentials, then the instance's IAM role.
	AccessKey, SecretKey, SessionToken string
	// TTL is how long a presigned URL stays valid, at most 7 days.
	// Defaults to 7 days.
	TTL time.Duration
	// PartSize is the size of the parts of a multipart upload; files
	// larger than it are uploaded in parts, in parallel. Defaults to
	// 16 MiB; S3 allows no less than 5 MiB.
	PartSize uint64
	// Attempts is how often an upload is tried in all, each attempt
	// itself retrying failed requests. Defaults to 3.
	Attempts int
	// Transport carries the requests. Defaults to minio-go's.
	Transport http.RoundTripper
}

// ParseS3URL reads a storage URL of the form
//
//	s3://BUCKET[/PREFIX]?endpoint=URL&region=REGION&path_style=true
//
// into an S3Config. Credentials come from the environment, not the URL.
func ParseS3URL(raw string) (S3Config, error) {
	u, err := url.Parse(raw)
	if err != nil || u.Scheme != "s3" || u.Host == "" {
		return S3Config{}, fault.Errorf(fault.Invalid, "invalid --storage %q: want s3://BUCKET[/PREFIX]?endpoint=URL&region=REGION", raw)
	}
	if u.User != nil {
		return S3Config{}, fault.E(fault.Invalid, "invalid --storage: put the credentials in AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, not in the URL")
	}
	q := u.Query()
	c := S3Config{Bucket: u.Host, Prefix: strings.TrimPrefix(u.Path, "/"), Endpoint: q.Get("endpoint"), Region: q.Get("region")}
	if c.Prefix != "" && !strings.HasSuffix(c.Prefix, "/") {
		c.Prefix += "/"
	}
	if v := q.Get("path_style"); v != "" {
		if c.PathStyle, err = strconv.ParseBool(v); err != nil {
			return S3Config{}, fault.Errorf(fault.Invalid, "invalid --storage: path_style=%q is not true or false", v)
		}
	}
	for k := range q {
		switch k {
		case "endpoint", "region", "path_style":
		default:
			return S3Config{}, fault.Errorf(fault.Invalid, "invalid --storage: unknown parameter %q (known: endpoint, region, path_style)", k)
		}
	}
	return c, nil
}

// S3 stores files in a bucket of an S3-compatible object store; download
// URLs are presigned GET URLs, served by the store itself.
type S3 struct {
	client   *minio.Client
	cfg      S3Config
	ttl      time.Duration
	partSize uint64
	attempts int
}

// maxPresign is the longest validity a SigV4 presigned URL may have.
const maxPresign = 7 * 24 * time.Hour

// NewS3 connects to the store of c and checks that its bucket exists.
func NewS3(ctx context.Context, c S3Config) (*S3, error) {
	endpoint, secure := cmp.Or(c.Endpoint, "s3.amazonaws.com"), true
	if strings.Contains(endpoint, "://") {
		u, err := url.Parse(endpoint)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || (u.Path != "" && u.Path != "/") {
			return nil, fault.Errorf(fault.Invalid, "invalid S3 endpoint %q: want http(s)://HOST[:PORT] or HOST[:PORT]", endpoint)
		}
		endpoint, secure = u.Host, u.Scheme == "https"
	}
	creds := credentials.NewStaticV4(c.AccessKey, c.SecretKey, c.SessionToken)
	if c.AccessKey == "" {
		creds = credentials.NewChainCredentials([]credentials.Provider{
			&credentials.EnvAWS{},
			&credentials.FileAWSCredentials{},
			&credentials.IAM{Client: &http.Client{Transport: http.DefaultTransport}},
		})
	}
	lookup := minio.BucketLookupAuto
	if c.PathStyle {
		lookup = minio.BucketLookupPath
	}
	client, err := minio.New(endpoint, &minio.Options{
		Creds: creds, Secure: secure, Region: cmp.Or(c.Region, "us-east-1"), BucketLookup: lookup, Transport: c.Transport,
	})
	if err != nil {
		return nil, fault.Wrap(fault.Invalid, "invalid S3 settings: "+err.Error(), err)
	}
	s := &S3{client: client, cfg: c, ttl: cmp.Or(c.TTL, maxPresign), partSize: cmp.Or(c.PartSize, 16<<20), attempts: cmp.Or(c.Attempts, 3)}
	if s.ttl > maxPresign {
		return nil, fault.Errorf(fault.Invalid, "S3 presigned URLs last at most 7 days; lower --url-ttl (%v)", s.ttl)
	}
	if s.partSize < 5<<20 {
		return nil, fault.E(fault.Invalid, "S3 multipart parts must be at least 5 MiB")
	}
	cctx, cancel := context.WithTimeout(ctx, 15*time.Second)
	defer cancel()
	ok, err := client.BucketExists(cctx, c.Bucket)
	if err != nil {
		return nil, fault.Wrap(fault.Unavailable, fmt.Sprintf("cannot reach the S3 bucket %q at %s: %v", c.Bucket, endpoint, err), err)
	}
	if !ok {
		return nil, fault.Errorf(fault.Invalid, "the S3 bucket %q does not exist at %s; create it first", c.Bucket, endpoint)
	}
	return s, nil
}

func (s *S3) object(key string) (string, error) {
	if err := checkKey(key); err != nil {
		return "", err
	}
	return s.cfg.Prefix + key, nil
}

// Put uploads the file at src under key (in parts when it is larger than
// PartSize), retrying a failed upload, and removes src once stored.
func (s *S3) Put(ctx context.Context, key, src string) (int64, error) {
	obj, err := s.object(key)
	if err != nil {
		return 0, err
	}
	opts := minio.PutObjectOptions{ContentType: contentType(key), PartSize: s.partSize}
	for attempt := 1; ; attempt++ {
		info, err := s.client.FPutObject(ctx, s.cfg.Bucket, obj, src, opts)
		if err == nil {
			os.Remove(src)
			return info.Size, nil
		}
		if attempt >= s.attempts || ctx.Err() != nil || !retryable(err) {
			return 0, fmt.Errorf("uploading %s to the S3 bucket %s (attempt %d of %d): %w", obj, s.cfg.Bucket, attempt, s.attempts, err)
		}
		select {
		case <-ctx.Done():
			return 0, ctx.Err()
		case <-time.After(time.Duration(attempt) * time.Second):
		}
	}
}

// retryable reports whether an upload that failed with err may succeed if
// tried again: not when the store refused it for good (a 4xx answer other
// than timeouts and throttling) or the file is unreadable.
func retryable(err error) bool {
	var pe *os.PathError
	if errors.As(err, &pe) {
		return false
	}
	code := minio.ToErrorResponse(err).StatusCode
	return code == 0 || code >= 500 || code == http.StatusRequestTimeout || code == http.StatusTooManyRequests
}

// URL returns a presigned GET URL for key, valid for the TTL, that serves
// the file as video/mp4 named fileName.
func (s *S3) URL(ctx context.Context, key, fileName string) (string, error) {
	obj, err := s.object(key)
	if err != nil {
		return "", err
	}
	params := url.Values{
		"response-content-type":        {contentType(key)},
		"response-content-disposition": {`inline; filename="` + path.Base(cmp.Or(fileName, key)) + `"`},
	}
	u, err := s.client.PresignedGetObject(ctx, s.cfg.Bucket, obj, s.ttl, params)
	if err != nil {
		return "", err
	}
	return u.String(), nil
}

// Open reads the object under key; a key that holds nothing is a
// fault.NotFound error.
func (s *S3) Open(ctx context.Context, key string) (io.ReadCloser, error) {
	obj, err := s.object(key)
	if err != nil {
		return nil, err
	}
	o, err := s.client.GetObject(ctx, s.cfg.Bucket, obj, minio.GetObjectOptions{})
	if err != nil {
		return nil, err
	}
	// GetObject is lazy: Stat finds out whether the object exists.
	if _, err := o.Stat(); err != nil {
		o.Close()
		if minio.ToErrorResponse(err).Code == "NoSuchKey" {
			return nil, notFound(key)
		}
		return nil, err
	}
	return o, nil
}

// Delete removes the object under key, if any.
func (s *S3) Delete(ctx context.Context, key string) error {
	obj, err := s.object(key)
	if err != nil {
		return err
	}
	return s.client.RemoveObject(ctx, s.cfg.Bucket, obj, minio.RemoveObjectOptions{})
}

// Ping checks that the bucket answers.
func (s *S3) Ping(ctx context.Context) error {
	_, err := s.client.BucketExists(ctx, s.cfg.Bucket)
	return err
}
