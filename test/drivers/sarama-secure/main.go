// A test driver (test/broker/security/start-line.test.ts builds and runs it): sarama over TLS with SASL/SCRAM.
// It produces -count records to -topic partition 0 with acks=all, reads them back from the oldest offset and
// prints one JSON line {"produced":N,"consumed":N,"values":[...]} — or {"error":"..."} and exit code 1.
// Built in GOPATH mode against Debian's sarama (golang-github-shopify-sarama-dev, /usr/share/gocode). The SCRAM
// client (RFC 5802) is written here with the standard library: sarama takes one from the application.
package main

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"crypto/sha512"
	"crypto/subtle"
	"crypto/tls"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"hash"
	"io/ioutil"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/Shopify/sarama"
)

type scramClient struct {
	newHash    func() hash.Hash
	user, pass string
	nonce      string
	firstBare  string
	serverSig  []byte
	step       int
	done       bool
}

func (c *scramClient) Begin(user, password, authzID string) error {
	c.user, c.pass = user, password
	b := make([]byte, 18)
	if _, err := rand.Read(b); err != nil {
		return err
	}
	c.nonce = base64.RawStdEncoding.EncodeToString(b)
	return nil
}

func escape(s string) string {
	return strings.NewReplacer("=", "=3D", ",", "=2C").Replace(s)
}

func (c *scramClient) hmac(key []byte, msg string) []byte {
	m := hmac.New(c.newHash, key)
	m.Write([]byte(msg))
	return m.Sum(nil)
}

// hi is RFC 5802's Hi(): PBKDF2 with HMAC as the PRF and one block.
func (c *scramClient) hi(password string, salt []byte, iterations int) []byte {
	m := hmac.New(c.newHash, []byte(password))
	m.Write(salt)
	m.Write([]byte{0, 0, 0, 1})
	u := m.Sum(nil)
	out := append([]byte(nil), u...)
	for i := 1; i < iterations; i++ {
		m = hmac.New(c.newHash, []byte(password))
		m.Write(u)
		u = m.Sum(nil)
		for j := range out {
			out[j] ^= u[j]
		}
	}
	return out
}

func (c *scramClient) Step(challenge string) (string, error) {
	c.step++
	switch c.step {
	case 1:
		c.firstBare = "n=" + escape(c.user) + ",r=" + c.nonce
		return "n,," + c.firstBare, nil
	case 2:
		attrs := map[string]string{}
		for _, kv := range strings.Split(challenge, ",") {
			if len(kv) > 2 && kv[1] == '=' {
				attrs[kv[:1]] = kv[2:]
			}
		}
		nonce, saltB64, itText := attrs["r"], attrs["s"], attrs["i"]
		if !strings.HasPrefix(nonce, c.nonce) {
			return "", errors.New("server nonce does not extend the client nonce")
		}
		salt, err := base64.StdEncoding.DecodeString(saltB64)
		if err != nil {
			return "", err
		}
		iterations, err := strconv.Atoi(itText)
		if err != nil {
			return "", err
		}
		salted := c.hi(c.pass, salt, iterations)
		clientKey := c.hmac(salted, "Client Key")
		h := c.newHash()
		h.Write(clientKey)
		storedKey := h.Sum(nil)
		finalBare := "c=biws,r=" + nonce
		authMessage := c.firstBare + "," + challenge + "," + finalBare
		sig := c.hmac(storedKey, authMessage)
		proof := make([]byte, len(clientKey))
		for i := range clientKey {
			proof[i] = clientKey[i] ^ sig[i]
		}
		c.serverSig = c.hmac(c.hmac(salted, "Server Key"), authMessage)
		return finalBare + ",p=" + base64.StdEncoding.EncodeToString(proof), nil
	default:
		if !strings.HasPrefix(challenge, "v=") {
			return "", fmt.Errorf("server final message: %s", challenge)
		}
		v, err := base64.StdEncoding.DecodeString(challenge[2:])
		if err != nil || subtle.ConstantTimeCompare(v, c.serverSig) != 1 {
			return "", errors.New("server signature does not verify")
		}
		c.done = true
		return "", nil
	}
}

func (c *scramClient) Done() bool { return c.done }

func fail(err error) {
	out, _ := json.Marshal(map[string]string{"error": err.Error()})
	fmt.Println(string(out))
	os.Exit(1)
}

func main() {
	bootstrap := flag.String("bootstrap", "127.0.0.1:9093", "host:port of a SASL_SSL listener")
	topic := flag.String("topic", "sarama-secure", "topic (partition 0 is used)")
	user := flag.String("user", "", "SCRAM user")
	password := flag.String("password", "", "SCRAM password")
	mechanism := flag.String("mechanism", "SCRAM-SHA-512", "SCRAM-SHA-256 or SCRAM-SHA-512")
	caFile := flag.String("ca", "", "PEM file of the CA that signed the broker's certificate")
	count := flag.Int("count", 10, "records to produce")
	flag.Parse()

	pem, err := ioutil.ReadFile(*caFile)
	if err != nil {
		fail(err)
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(pem) {
		fail(errors.New("no certificate in -ca"))
	}
	cfg := sarama.NewConfig()
	cfg.Version = sarama.V2_1_0_0
	cfg.ClientID = "sarama-secure"
	cfg.Net.TLS.Enable = true
	cfg.Net.TLS.Config = &tls.Config{RootCAs: pool, ServerName: "localhost"}
	cfg.Net.SASL.Enable = true
	cfg.Net.SASL.Handshake = true
	cfg.Net.SASL.User = *user
	cfg.Net.SASL.Password = *password
	switch *mechanism {
	case "SCRAM-SHA-256":
		cfg.Net.SASL.Mechanism = sarama.SASLTypeSCRAMSHA256
		cfg.Net.SASL.SCRAMClientGeneratorFunc = func() sarama.SCRAMClient { return &scramClient{newHash: sha256.New} }
	case "SCRAM-SHA-512":
		cfg.Net.SASL.Mechanism = sarama.SASLTypeSCRAMSHA512
		cfg.Net.SASL.SCRAMClientGeneratorFunc = func() sarama.SCRAMClient { return &scramClient{newHash: sha512.New} }
	default:
		fail(fmt.Errorf("unknown mechanism %s", *mechanism))
	}
	cfg.Net.DialTimeout = 10 * time.Second
	cfg.Producer.RequiredAcks = sarama.WaitForAll
	cfg.Producer.Return.Successes = true
	cfg.Producer.Partitioner = sarama.NewManualPartitioner
	cfg.Metadata.Retry.Max = 10
	cfg.Metadata.Retry.Backoff = 200 * time.Millisecond

	client, err := sarama.NewClient([]string{*bootstrap}, cfg)
	if err != nil {
		fail(err)
	}
	defer client.Close()
	producer, err := sarama.NewSyncProducerFromClient(client)
	if err != nil {
		fail(err)
	}
	for i := 0; i < *count; i++ {
		msg := &sarama.ProducerMessage{Topic: *topic, Partition: 0, Value: sarama.StringEncoder(fmt.Sprintf("secure-%d", i))}
		if _, _, err := producer.SendMessage(msg); err != nil {
			fail(err)
		}
	}
	consumer, err := sarama.NewConsumerFromClient(client)
	if err != nil {
		fail(err)
	}
	pc, err := consumer.ConsumePartition(*topic, 0, sarama.OffsetOldest)
	if err != nil {
		fail(err)
	}
	values := []string{}
	deadline := time.After(20 * time.Second)
	for len(values) < *count {
		select {
		case m := <-pc.Messages():
			values = append(values, string(m.Value))
		case e := <-pc.Errors():
			fail(e)
		case <-deadline:
			fail(fmt.Errorf("consumed %d of %d records before the deadline", len(values), *count))
		}
	}
	pc.Close()
	out, _ := json.Marshal(map[string]interface{}{"produced": *count, "consumed": len(values), "values": values})
	fmt.Println(string(out))
}
