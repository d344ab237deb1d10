//! Whole SIP messages: framing, the lazy view, every typed header view and the stateless
//! verdict must survive any byte string (DESIGN.md, "Bad input").

#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    sipedge::fuzzing::exercise_message(data);
});
