import type { Extension } from '../pipeline/runtime.js';
import { neutraliseContent, scanForInjection } from './injection/index.js';
import { injectionStage, type InjectionDetector } from './injection-stage.js';
import { outputStage } from './output-inspection.js';
import { createTrustService } from './service.js';
import { TrustSettings } from './settings.js';
import { taintStage } from './taint-stage.js';
import { verificationStage } from './verification-stage.js';

/** The detector in `trust/injection/`: rule-based, CPU-only, bounded time. */
export const defaultDetector: InjectionDetector = {
  scan: (text, options) => scanForInjection(text, options),
  neutralise: (text, scan, mode, source) => neutraliseContent(text, scan, mode, { source }),
};

/**
 * The trust module (Domain 2 and the verification gate of Domain 3): tier labels and session taint, injection
 * detection, output inspection and parameter verification, plus the `trust` service (`provenanceOf` for approvers).
 */
export function extension(options: { detector?: InjectionDetector } = {}): Extension {
  return {
    name: 'trust',
    setup(runtime) {
      const settings = new TrustSettings(runtime.policy);
      runtime.provide('trust', createTrustService(settings, runtime.policy));
      return [
        taintStage(settings),
        injectionStage(settings, options.detector ?? defaultDetector),
        outputStage(settings),
        verificationStage(settings),
      ];
    },
  };
}
