#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import SystemPackage

extension FileSystem {
    /// Makes `destination` a second name of `path` unless the name is taken: false for EEXIST, the answer a
    /// protocol that lets the first writer win expects (a lease put back after a newer claim was made). Every
    /// other failure is thrown.
    public static func linkUnlessTaken(_ path: String, to destination: String) throws(FileSystemError) -> Bool {
        do { try link(path, to: destination) } catch where error.errno == .fileExists { return false }
        return true
    }
}
