// uPlot and its stylesheet, in their own chunk: only the campaign page's chart loads them,
// so the list and the create form start without ~23 KB (gzip) they do not use.
import uPlot from 'uplot';
import 'uplot/dist/uPlot.min.css';

export default uPlot;
