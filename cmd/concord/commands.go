package main

import (
	"bufio"
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"strings"

	"golang.org/x/crypto/bcrypt"

	"github.com/concordchat/concord/config"
	"github.com/concordchat/concord/roomserver/mxid"
	"github.com/concordchat/concord/storage/accounts"
)

func generateConfig(args []string) error {
	fs := flag.NewFlagSet("generate-config", flag.ContinueOnError)
	if err := fs.Parse(args); err != nil {
		return err
	}
	fmt.Print(config.GenerateYAML())
	return nil
}

// createAccount adds a user from the command line.
func createAccount(ctx context.Context, args []string) error {
	fs := flag.NewFlagSet("create-account", flag.ContinueOnError)
	cfgPath := fs.String("config", "", "configuration file")
	username := fs.String("username", "", "localpart of the new user")
	password := fs.String("password", "", "password (read from standard input when empty)")
	admin := fs.Bool("admin", false, "make the user a server admin")
	if err := fs.Parse(args); err != nil {
		return err
	}
	local := strings.ToLower(strings.TrimPrefix(*username, "@"))
	if i := strings.IndexByte(local, ':'); i >= 0 {
		local = local[:i]
	}
	if !mxid.ValidLocalpart(local) {
		return fmt.Errorf("invalid username %q: use a-z, 0-9 and . _ = - / +", *username)
	}
	pw := *password
	if pw == "" {
		fmt.Fprint(os.Stderr, "Password: ")
		line, err := bufio.NewReader(os.Stdin).ReadString('\n')
		if err != nil && line == "" {
			return fmt.Errorf("reading password: %w", err)
		}
		pw = strings.TrimRight(line, "\r\n")
	}
	if pw == "" {
		return errors.New("the password must not be empty")
	}
	cfg, err := config.Load(*cfgPath)
	if err != nil {
		return err
	}
	s, err := openStores(ctx, cfg, nil)
	if err != nil {
		return err
	}
	defer s.db.Close()
	hash, err := bcrypt.GenerateFromPassword([]byte(pw), bcrypt.DefaultCost+2)
	if err != nil {
		return err
	}
	if _, err := s.accounts.CreateUser(ctx, accounts.NewUser{Localpart: local, PasswordHash: string(hash), IsAdmin: *admin}); err != nil {
		return err
	}
	fmt.Printf("created @%s:%s%s\n", local, cfg.ServerName, map[bool]string{true: " (admin)"}[*admin])
	return nil
}
