//! SIP, SIPS, tel and opaque URIs with their parameters and headers must survive any byte
//! string (DESIGN.md, "Bad input").

#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    sipedge::fuzzing::exercise_uri(data);
});
