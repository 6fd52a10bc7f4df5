// Package roomversion is the registry of Matrix room versions 1 to 12: for each
// version, which event format, event ID scheme, redaction algorithm,
// authorisation rule variants and state resolution algorithm apply.
//
// Other packages never compare version strings; they read the feature fields of
// a *Version, so adding a version is one entry here.
package roomversion
