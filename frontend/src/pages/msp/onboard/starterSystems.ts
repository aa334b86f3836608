// A healthcare practice's usual critical systems, to pick from instead of typing them. The targets
// are starting points a technician adjusts with the practice (minutes, as the API takes them):
// charting and e-prescribing stop care within hours; billing can wait a day or two; devices are
// rebuilt rather than restored, so they need no backup copy of their own.
import type { SystemBody } from "../../../api/inventory";

export type StarterSystem = Required<
  Pick<SystemBody, "name" | "category" | "tier" | "holds_ephi" | "rto_minutes" | "rpo_minutes" | "mtd_minutes" | "requires_onsite_copy" | "requires_offsite_copy">
> & { why: string };

const HOUR = 60;
const DAY = 24 * HOUR;

export const STARTER_SYSTEMS: readonly StarterSystem[] = [
  { name: "Electronic health record (EHR)", category: "ehr", tier: 1, holds_ephi: true, rto_minutes: 4 * HOUR, rpo_minutes: HOUR, mtd_minutes: 8 * HOUR, requires_onsite_copy: true, requires_offsite_copy: true, why: "Charts, notes and results: care stops without it." },
  { name: "Practice management and billing", category: "practice_management", tier: 2, holds_ephi: true, rto_minutes: DAY, rpo_minutes: 4 * HOUR, mtd_minutes: 3 * DAY, requires_onsite_copy: true, requires_offsite_copy: true, why: "Claims, payments and patient accounts." },
  { name: "Scheduling and online booking", category: "scheduling", tier: 2, holds_ephi: true, rto_minutes: 4 * HOUR, rpo_minutes: HOUR, mtd_minutes: DAY, requires_onsite_copy: false, requires_offsite_copy: true, why: "Who is coming today, and new bookings." },
  { name: "Imaging (X-ray, PACS)", category: "imaging", tier: 2, holds_ephi: true, rto_minutes: 8 * HOUR, rpo_minutes: 4 * HOUR, mtd_minutes: 2 * DAY, requires_onsite_copy: true, requires_offsite_copy: true, why: "Images are large: a local copy restores fastest." },
  { name: "E-prescribing", category: "e_prescribing", tier: 1, holds_ephi: true, rto_minutes: 2 * HOUR, rpo_minutes: HOUR, mtd_minutes: 8 * HOUR, requires_onsite_copy: false, requires_offsite_copy: true, why: "Prescriptions, including controlled substances." },
  { name: "Phones", category: "phones", tier: 1, holds_ephi: false, rto_minutes: HOUR, rpo_minutes: DAY, mtd_minutes: 4 * HOUR, requires_onsite_copy: false, requires_offsite_copy: true, why: "Patients must reach the practice; keep the phone system's settings off-site." },
  { name: "Vaccine fridge temperature monitor", category: "iot", tier: 2, holds_ephi: false, rto_minutes: HOUR, rpo_minutes: HOUR, mtd_minutes: 4 * HOUR, requires_onsite_copy: false, requires_offsite_copy: true, why: "A silent monitor can cost a fridge of vaccines; its log proves the cold chain." },
  { name: "Other medical device monitors", category: "iot", tier: 3, holds_ephi: false, rto_minutes: 8 * HOUR, rpo_minutes: DAY, mtd_minutes: 2 * DAY, requires_onsite_copy: false, requires_offsite_copy: false, why: "Alarms and sensors connected to the network." },
  { name: "Front-desk and clinical laptops, tablets and phones", category: "endpoints", tier: 2, holds_ephi: true, rto_minutes: 4 * HOUR, rpo_minutes: DAY, mtd_minutes: DAY, requires_onsite_copy: false, requires_offsite_copy: false, why: "The devices staff need first; rebuilt from a standard image, not restored." },
];
