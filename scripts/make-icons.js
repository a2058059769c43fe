// Renders assets/icon.svg to the PNG sizes electron-builder needs (run: node scripts/make-icons.js).
import sharp from 'sharp';

for (const size of [512, 256]) {
  const file = size === 512 ? 'assets/icon.png' : `assets/icon-${size}.png`;
  await sharp('assets/icon.svg', { density: 300 }).resize(size, size).png().toFile(file);
  console.log(`wrote ${file}`);
}
