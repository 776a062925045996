package filterpattern

// Decisions where AWS leaves room (tested in TestChoice and
// TestChoiceExtraction, apart from the vectors; docs/aws-behaviour.md,
// "Filter pattern syntax" and "Choices where AWS is silent"):
//
//   - Error.Pos is a 1-based byte column in the pattern as given (leading
//     whitespace included); Error.Msg is the AWS message and Error.Detail
//     our explanation. A pattern longer than 1,024 characters is reported
//     at column 1025.
//   - The last slot of a delimited pattern without "..." takes the rest of
//     the message verbatim when more fields follow ([Observed]); when it
//     binds exactly one field, that field's value is used, so a final
//     "quoted" or [bracketed] field loses its delimiters like any other.
//     The simpler reading, that a pattern whose field count differs never
//     matches, loses to the recorded service behaviour (TestFlowLogVectors,
//     V17).
//   - A field that starts with '"' or '[' ends at the closing character;
//     the next field starts right after it, even without whitespace.
//   - In phrases only \" and \\ are escapes; any other backslash is an
//     error rather than a guess.
//   - After a comparison operator, a value starting with = < > ! is an
//     error ("==", "=>"), as unknown operators are invalid.
//   - Unquoted single quotes are ordinary characters: { $.a = 'x' }
//     compares with the three characters 'x'.
//   - A regex that is a plain literal (no operator) is matched with a
//     substring search; it means the same and is much faster.
//   - Selector.Lookup with a wildcard returns the first scalar found;
//     object member order is not defined there.
