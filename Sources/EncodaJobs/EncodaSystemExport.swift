// `AtomicFile` and `JSONCoding` were EncodaJobs' API before they moved down to EncodaSystem, where Media can use
// them too. Re-exported so that the targets above (CLI, Server, their tests) keep using them through EncodaJobs
// while their own files are being moved by other work; they can import EncodaSystem themselves and drop this.
@_exported import EncodaSystem
