internal import CSvtAv1
import EncodaModel

/// What an encoder library call failed with, by name, and the C function that said so. Thrown inside the overlays;
/// their public surface (`EncoderFactory`, `VideoEncoder`) hands callers `encodaError`, the message encoda has
/// always printed for it.
public struct CodecError: Error, Sendable, CustomStringConvertible {
    public enum Code: Sendable, Equatable {
        /// An SVT-AV1 call returned this status.
        case svtAv1(SvtAv1Status)
        /// SVT-AV1 has no --encoder-params parameter of this name.
        case svtAv1UnknownParameter
        /// SVT-AV1 cannot read the value given to a parameter it knows.
        case svtAv1BadParameterValue
        /// A packet came back flagged with EB_BUFFERFLAG_ERROR_MASK.
        case svtAv1PacketError
        /// A middle or last pass of --two-pass without the stats of the pass before.
        case svtAv1MissingStats
        /// A pixel format SVT-AV1 1.4.1 does not encode.
        case svtAv1UnsupportedPixelFormat
        /// x264 has no such preset.
        case x264UnknownPreset
        /// x264 has no option of this name (X264_PARAM_BAD_NAME).
        case x264UnknownOption
        /// x264 cannot use the value given to an option it knows (X264_PARAM_BAD_VALUE).
        case x264BadOptionValue
        /// x264 did not take the two-pass stats file.
        case x264StatsRejected
        /// x264_encoder_open returned NULL: x264 refused the configuration.
        case x264OpenFailed
        /// The SPS/PPS from x264_encoder_headers do not form an avcC record.
        case x264InvalidHeaders
        /// x264_encoder_encode returned a negative size.
        case x264EncodeFailed
    }

    public var code: Code
    /// The C function that failed, e.g. "svt_av1_enc_set_parameter".
    public var function: String
    /// What the CLI reports: whose fault it is (`.usage` for the user's parameters, `.encoder` otherwise) and the
    /// message that says what to do.
    public var encodaError: EncodaError

    init(_ code: Code, _ function: String, _ kind: EncodaError.Code, _ message: String) {
        self.code = code
        self.function = function
        self.encodaError = EncodaError(kind, message)
    }

    public var description: String { "\(function): \(encodaError.description)" }

    /// Runs `body`, handing a `CodecError` on as the `EncodaError` every caller of the overlays expects.
    static func reported<T>(_ body: () throws -> T) throws -> T {
        do { return try body() } catch let e as CodecError { throw e.encodaError }
    }
}

/// SVT-AV1's EbErrorType values (EbSvtAv1.h) by name.
public enum SvtAv1Status: Sendable, Equatable {
    case none, insufficientResources, undefined, invalidComponent, badParameter, destroyThreadFailed,
         semaphoreUnresponsive, destroySemaphoreFailed, createMutexFailed, mutexUnresponsive, destroyMutexFailed,
         emptyQueue, fifoShutdown, max
    /// A value the 1.4.1 headers do not name.
    case unknown(UInt32)

    init(_ e: EbErrorType) {
        switch e {
        case EB_ErrorNone: self = .none
        case EB_ErrorInsufficientResources: self = .insufficientResources
        case EB_ErrorUndefined: self = .undefined
        case EB_ErrorInvalidComponent: self = .invalidComponent
        case EB_ErrorBadParameter: self = .badParameter
        case EB_ErrorDestroyThreadFailed: self = .destroyThreadFailed
        case EB_ErrorSemaphoreUnresponsive: self = .semaphoreUnresponsive
        case EB_ErrorDestroySemaphoreFailed: self = .destroySemaphoreFailed
        case EB_ErrorCreateMutexFailed: self = .createMutexFailed
        case EB_ErrorMutexUnresponsive: self = .mutexUnresponsive
        case EB_ErrorDestroyMutexFailed: self = .destroyMutexFailed
        case EB_NoErrorEmptyQueue: self = .emptyQueue
        case EB_NoErrorFifoShutdown: self = .fifoShutdown
        case EB_ErrorMax: self = .max
        default: self = .unknown(UInt32(bitPattern: e.rawValue))
        }
    }

    /// The C name, the value and what it means: "EB_ErrorBadParameter, 0x80001005: a parameter is out of range …".
    var text: String {
        let (name, value, meaning): (String, UInt32, String)
        switch self {
        case .none: (name, value, meaning) = ("EB_ErrorNone", 0, "no error")
        case .insufficientResources: (name, value, meaning) = ("EB_ErrorInsufficientResources", 0x8000_1000, "not enough memory or threads")
        case .undefined: (name, value, meaning) = ("EB_ErrorUndefined", 0x8000_1001, "an unspecified error")
        case .invalidComponent: (name, value, meaning) = ("EB_ErrorInvalidComponent", 0x8000_1004, "the encoder handle is not valid")
        case .badParameter: (name, value, meaning) = ("EB_ErrorBadParameter", 0x8000_1005, "a parameter is out of range or does not fit the others")
        case .destroyThreadFailed: (name, value, meaning) = ("EB_ErrorDestroyThreadFailed", 0x8000_2012, "a thread could not be stopped")
        case .semaphoreUnresponsive: (name, value, meaning) = ("EB_ErrorSemaphoreUnresponsive", 0x8000_2021, "a semaphore did not respond")
        case .destroySemaphoreFailed: (name, value, meaning) = ("EB_ErrorDestroySemaphoreFailed", 0x8000_2022, "a semaphore could not be freed")
        case .createMutexFailed: (name, value, meaning) = ("EB_ErrorCreateMutexFailed", 0x8000_2030, "a mutex could not be made")
        case .mutexUnresponsive: (name, value, meaning) = ("EB_ErrorMutexUnresponsive", 0x8000_2031, "a mutex did not respond")
        case .destroyMutexFailed: (name, value, meaning) = ("EB_ErrorDestroyMutexFailed", 0x8000_2032, "a mutex could not be freed")
        case .emptyQueue: (name, value, meaning) = ("EB_NoErrorEmptyQueue", 0x8000_2033, "no packet is ready")
        case .fifoShutdown: (name, value, meaning) = ("EB_NoErrorFifoShutdown", 0x8000_2034, "the encoder is shutting down")
        case .max: (name, value, meaning) = ("EB_ErrorMax", 0x7FFF_FFFF, "the encode failed")
        case .unknown(let v): return "unknown SVT-AV1 error 0x" + String(v, radix: 16)
        }
        return "\(name), 0x\(String(value, radix: 16)): \(meaning)"
    }
}

extension CodecError {
    /// An SVT-AV1 call returned `status`; `message` already names it (`SvtAv1Status.text`).
    static func svtAv1(_ status: EbErrorType, _ function: String, _ kind: EncodaError.Code = .encoder, _ message: String) -> CodecError {
        CodecError(.svtAv1(SvtAv1Status(status)), function, kind, message)
    }
}
