import ArgumentParser
import EncodaModel

/// Protocol parameters of the farm, recorded in the plan so that every worker uses the same ones.
struct FarmOptions: ParsableArguments {
    @Option(name: .long, help: "Seconds without a heartbeat (by the file server's clock) after which a worker's claim counts as abandoned and another worker takes the chunk over (10…86400).")
    var leaseSeconds: Double = FarmSettings.defaultLeaseSeconds
    @Option(name: .long, help: "Failed attempts after which a chunk is quarantined instead of retried (1…100).")
    var maxAttempts: Int = FarmSettings.defaultMaxAttempts
    @Flag(name: .long, inversion: .prefixedNo,
          help: "Analyse INPUT as segments that local and remote workers (`encoda worker TMP`) share by lease, and plan and encode while it is analysed (the default); --no-segmented-analysis analyses it in one pass here before any chunk.")
    var segmentedAnalysis: Bool? = nil

    func validate() throws {
        do { _ = try settings() } catch let e as EncodaError { throw ValidationError(e.message) }
    }

    func settings() throws -> FarmSettings {
        let f = FarmSettings(leaseSeconds: leaseSeconds, maxAttempts: maxAttempts)
        do { try f.validate() } catch let e as EncodaError {
            // Name only the option that is out of range.
            let leaseOK = leaseSeconds.isFinite && FarmSettings.leaseRange.contains(leaseSeconds)
            throw EncodaError(.usage, "\(leaseOK ? "--max-attempts" : "--lease-seconds"): \(e.message)")
        }
        return f
    }
}
