package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"regexp"
	"strings"
	"text/tabwriter"
	"time"

	"stillmotion/internal/auth"
	"stillmotion/internal/generation"
	"stillmotion/internal/queue"
	"stillmotion/internal/server"
)

const keysUsage = `Usage:
  stillmotion keys create --name NAME [--credits N] [--test]
                                                      create a key; it is printed once
                                                      (--test: a test key, see docs/testing.md)
  stillmotion keys create --name NAME --worker --queues Q[,Q...]
                                                      create a worker token: it may only take
                                                      render work from the queues (render_ENGINE)
  stillmotion keys list                               list keys and their balances
  stillmotion keys revoke ID|NAME                     revoke a key

Flags (all subcommands): --data-dir, --database (as for serve)
`

func runKeys(ctx context.Context, args []string) error {
	if len(args) == 0 || args[0] == "-h" || args[0] == "--help" || args[0] == "help" {
		fmt.Print(keysUsage)
		if len(args) == 0 {
			return errors.New("keys needs a subcommand: create, list or revoke")
		}
		return nil
	}
	sub, args := args[0], args[1:]
	fs := newFlagSet("keys "+sub, "keys "+sub+" [flags]")
	var c common
	c.register(fs)
	name := fs.String("name", "", "key name (create; required)")
	worker := fs.Bool("worker", false, "a worker token (create): it may only take render work from --queues, not call the API")
	queues := fs.String("queues", "", "the render queues a worker token may take work from (create --worker), comma-separated: render_ENGINE or render_QUEUE as the engines file names them")
	test := fs.Bool("test", false, "a test key (create): its generations are free, marked \"test\", rendered fast unless scripted otherwise, and it may send test scripts (X-Stillmotion-Script)")
	credits := fs.Int64("credits", -1, "credit balance (create); omitted: unlimited. $1 = 2,000,000 credits; 720p 5 s costs 420,000")
	if err := fs.Parse(args); err != nil {
		return err
	}
	cfg := c.config()
	st, err := server.OpenStore(ctx, &cfg, queue.Config{})
	if err != nil {
		return err
	}
	defer st.Close()
	switch sub {
	case "create":
		if *name == "" {
			return errors.New("keys create needs --name NAME")
		}
		if fs.NArg() > 0 {
			return fmt.Errorf("unexpected arguments %q", fs.Args())
		}
		secret := auth.NewSecret()
		k := &auth.Key{ID: "key_" + generation.NewID()[:12], Name: *name, Hash: auth.Hash(secret),
			Credits: *credits, Unlimited: *credits < 0, Test: *test, Created: time.Now().UTC()}
		switch {
		case *worker:
			qs, err := workerQueues(*queues)
			if err != nil {
				return err
			}
			if *test || *credits >= 0 {
				return errors.New("a worker token has no credits and is not a test key: leave out --credits and --test")
			}
			k.ID, k.Worker, k.Queues = "wrk_"+generation.NewID()[:12], true, qs
		case *queues != "":
			return errors.New("--queues is for worker tokens: add --worker")
		}
		if err := st.CreateKey(ctx, k); err != nil {
			return err
		}
		switch {
		case k.Worker:
			fmt.Fprintf(os.Stderr, "Created worker token %s (%s) for %s. It is shown only once:\n", k.ID, k.Name, strings.Join(k.Queues, ", "))
		case k.Test:
			fmt.Fprintf(os.Stderr, "Created test key %s (%s) with %s. It is shown only once:\n", k.ID, k.Name, balance(k))
		default:
			fmt.Fprintf(os.Stderr, "Created key %s (%s) with %s. It is shown only once:\n", k.ID, k.Name, balance(k))
		}
		fmt.Println(secret)
		if k.Worker {
			fmt.Fprintln(os.Stderr, "On the render machine: STILLMOTION_WORKER_TOKEN=<the token> stillmotion worker --remote https://<this API> (docs/remote-workers.md)")
		}
	case "list":
		keys, err := st.Keys(ctx)
		if err != nil {
			return err
		}
		tw := tabwriter.NewWriter(os.Stdout, 0, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "ID\tNAME\tCREDITS\tMODE\tCREATED\tSTATE")
		for _, k := range keys {
			state := "active"
			if k.Revoked != nil {
				state = "revoked " + k.Revoked.Format(time.RFC3339)
			}
			mode := "real"
			switch {
			case k.Test:
				mode = "test"
			case k.Worker:
				mode = "worker:" + strings.Join(k.Queues, ",")
			}
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\n", k.ID, k.Name, balance(k), mode, k.Created.Format(time.RFC3339), state)
		}
		return tw.Flush()
	case "revoke":
		if fs.NArg() != 1 {
			return errors.New("keys revoke needs one key ID or name")
		}
		if err := st.RevokeKey(ctx, fs.Arg(0)); err != nil {
			return err
		}
		fmt.Printf("Revoked %s\n", fs.Arg(0))
	default:
		fmt.Fprint(os.Stderr, keysUsage)
		return fmt.Errorf("unknown keys subcommand %q", sub)
	}
	return nil
}

// workerQueues reads --queues of a worker token: one or more render queue
// names.
func workerQueues(v string) ([]string, error) {
	var qs []string
	for q := range strings.SplitSeq(v, ",") {
		if q = strings.TrimSpace(q); q == "" {
			continue
		}
		if !queueName.MatchString(q) {
			return nil, fmt.Errorf("--queues: %q is not a render queue; name them as the engines file does: render_ENGINE or render_QUEUE (render_builtin for the built-in engine)", q)
		}
		qs = append(qs, q)
	}
	if len(qs) == 0 {
		return nil, errors.New("a worker token needs --queues: the render queues it may take work from, such as render_builtin")
	}
	return qs, nil
}

// queueName is the form of a render queue's name.
var queueName = regexp.MustCompile(`^` + queue.RenderPrefix + `[a-z0-9][a-z0-9_-]{0,62}$`)

func balance(k *auth.Key) string {
	if k.Worker {
		return "-"
	}
	if k.Unlimited {
		return "unlimited"
	}
	return fmt.Sprintf("%d", k.Credits)
}

var _ = flag.ErrHelp
