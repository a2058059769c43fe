/** The app's sections, in navigation order. */
export type SectionId = 'explorer' | 'runs' | 'compare' | 'dataset' | 'predictions' | 'prelabel';

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
  {
    id: 'dataset',
    label: 'Dataset',
    title: 'Dataset browser',
    lead: "A split's images with their labelled boxes, filtered by class or by problem.",
    empty: { title: 'No dataset open', body: 'Open a dataset YAML to browse its images and labels.' },
  },
  {
    id: 'predictions',
    label: 'Predictions',
    title: 'Predictions against labels',
    lead: 'Where the model and the labels disagree: missed labels, unlabelled objects, class confusions.',
    empty: { title: 'No predictions yet', body: "Pick a run's best checkpoint (or any weights) and a dataset." },
  },
  {
    id: 'prelabel',
    label: 'Pre-label',
    title: 'Pre-label a folder',
    lead: 'Let a model write YOLO label files for new images, for you to correct.',
    empty: { title: 'No folder chosen', body: 'Pick weights and a folder of new images.' },
  },
];

export function sectionById(id: SectionId): Section {
  const section = SECTIONS.find((s) => s.id === id);
  if (!section) throw new Error(`unknown section ${id}`);
  return section;
}
