//! Integration tests and the trybuild UI suite for goscope.
