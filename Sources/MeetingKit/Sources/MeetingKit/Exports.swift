// Clients (the daemon, modules, ingest) import MeetingKit alone and get GRDB with it,
// so that one copy of GRDB is linked through this dynamic library.
@_exported import GRDB
