package storage

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"math/rand/v2"
	"time"

	"go.uber.org/zap"
)

// retryPolicy bounds how often and how long WriteTx retries.
type retryPolicy struct {
	attempts int           // runs of fn in all, the first included
	base     time.Duration // delay before the first retry; doubles each time
	max      time.Duration // largest delay
}

var defaultRetry = retryPolicy{attempts: 10, base: 5 * time.Millisecond, max: 500 * time.Millisecond}

// WriteTx runs fn in a write transaction and commits it when fn returns nil.
// When the transaction fails because SQLite is busy or PostgreSQL reports a
// serialization failure or deadlock, it is rolled back and fn runs again in a
// new transaction, a bounded number of times with growing delays. fn must
// therefore have no effects outside the transaction, and must use only tx.
// An error fn returns is returned as it is, after rolling back.
func (db *DB) WriteTx(ctx context.Context, fn func(tx *sql.Tx) error) error {
	return db.runTx(ctx, db.write, nil, fn)
}

// ReadTx runs fn in a read-only transaction, giving it one consistent view of
// the database. It retries like [DB.WriteTx].
func (db *DB) ReadTx(ctx context.Context, fn func(tx *sql.Tx) error) error {
	return db.runTx(ctx, db.read, &sql.TxOptions{ReadOnly: true}, fn)
}

func (db *DB) runTx(ctx context.Context, pool *sql.DB, opts *sql.TxOptions, fn func(tx *sql.Tx) error) error {
	delay := db.retry.base
	for attempt := 1; ; attempt++ {
		err := runTxOnce(ctx, pool, opts, fn)
		if err == nil {
			return nil
		}
		retryable := db.dialect.IsBusy(err) || db.dialect.IsSerializationFailure(err)
		if !retryable || attempt >= db.retry.attempts {
			return err
		}
		db.logger.Debug("retrying transaction", zap.Int("attempt", attempt), zap.Error(err))
		// Full jitter keeps competing writers from retrying in lockstep.
		wait := delay/2 + rand.N(delay/2+1)
		select {
		case <-ctx.Done():
			return fmt.Errorf("storage: transaction abandoned while retrying: %w (last error: %w)", ctx.Err(), err)
		case <-time.After(wait):
		}
		delay = min(delay*2, db.retry.max)
	}
}

func runTxOnce(ctx context.Context, pool *sql.DB, opts *sql.TxOptions, fn func(tx *sql.Tx) error) (err error) {
	tx, err := pool.BeginTx(ctx, opts)
	if err != nil {
		return fmt.Errorf("storage: begin transaction: %w", err)
	}
	committed := false
	defer func() {
		// Also runs when fn panics, so the writer connection is never left
		// inside a transaction.
		if committed {
			return
		}
		if rbErr := tx.Rollback(); rbErr != nil && !errors.Is(rbErr, sql.ErrTxDone) && err != nil {
			err = errors.Join(err, fmt.Errorf("storage: rollback: %w", rbErr))
		}
	}()
	if err := fn(tx); err != nil {
		return err
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("storage: commit: %w", err)
	}
	committed = true
	return nil
}
