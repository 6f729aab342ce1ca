//! Structural checks of flags and segments.
