// Clients (the daemon, modules, ingest) import MeetingKit alone and get GRDB with it,
// so that one copy of GRDB is linked through this dynamic library.
@_exported import GRDB
// The index core too, so that the one copy in this library is the one modules use.
@_exported import MeetingIndex
