/** The app's sections, in navigation order. */
export type SectionId = 'explorer' | 'runs' | 'compare';

export interface Section {
  readonly id: SectionId;
  readonly label: string;
  readonly title: string;
  readonly lead: string;
  readonly empty: { readonly title: string; readonly body: string };
}

export const SECTIONS: readonly Section[] = [
  {
    id: 'explorer',
    label: 'Explorer',
    title: 'Architecture explorer',
    lead: 'Modules, parameters, and what a freeze choice freezes, before anything trains.',
    empty: {
      title: 'No model loaded',
      body: 'Pick a built-in YOLOv5 size or open a .yaml or .pt file to see its modules.',
    },
  },
  {
    id: 'runs',
    label: 'Runs',
    title: 'Runs',
    lead: 'Fine-tuning runs on your data, live and recorded.',
    empty: { title: 'No runs yet', body: 'Runs you start appear here with their progress and metrics.' },
  },
  {
    id: 'compare',
    label: 'Compare',
    title: 'Compare',
    lead: 'Accuracy against memory (GPU when measured) and time, across freeze choices.',
    empty: { title: 'Nothing to compare', body: 'Complete two or more runs to compare them here.' },
  },
];

export function sectionById(id: SectionId): Section {
  const section = SECTIONS.find((s) => s.id === id);
  if (!section) throw new Error(`unknown section ${id}`);
  return section;
}
