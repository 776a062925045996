package logstore

// Event is one stored log event as Scan hands it to its callback.
// Message points into the store's memory map: it is valid only during the
// callback; copy it to keep it.
type Event struct {
	Timestamp     int64 // ms, supplied by the writer
	IngestionTime int64 // ms, assigned when the batch was accepted
	Stream        string
	Message       []byte
}
