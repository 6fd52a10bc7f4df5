// Package directory is the repository behind the room directory, the user
// directory and content reports. It owns the tables of
// storage/migrations/0009_directory.sql and runs on both engines through
// [storage.DB].
//
//   - published.go: which rooms are published in the room directory, and the
//     listing query (joined member counts and the state events a directory
//     entry is made of);
//   - users.go: the user directory search over current room memberships;
//   - reports.go: event and room reports for server admins.
//
// The listing and search queries read the rooms tables (rooms,
// current_state, room_events) of storage/rooms; they never write them. The
// few JSON fields they look into (join rule, history visibility, display
// name, avatar) are extracted with each engine's own JSON functions.
package directory
